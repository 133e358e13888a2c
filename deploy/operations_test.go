// The template's settings that only show after a deploy: the log level
// reaches Lambda's own filter, the access log group is where vended logs
// belong, and the user pool sends its codes through SES when given one.

package deploy_test

import (
	"fmt"
	"strings"
	"testing"
)

// Lambda drops JSON lines below ApplicationLogLevel and files a line without
// "level" (the EMF metrics) as INFO: debug must reach it, and no level may
// drop the metrics.
func TestTemplateApplicationLogLevel(t *testing.T) {
	tpl := loadTemplate(t)
	for level, want := range map[string]string{"debug": "DEBUG", "info": "INFO", "warn": "INFO", "error": "INFO"} {
		d, err := deploy(t, tpl, map[string]string{"LogLevel": level, "RotationDays": "30", "IntercomAccessTokenSecretArn": tokenARN})
		if err != nil {
			t.Fatal(err)
		}
		for _, fn := range []string{"UserHashFunction", "RotateSecretFunction"} {
			lc := d.resource(fn)["LoggingConfig"]
			if got := at(lc, "ApplicationLogLevel"); got != want {
				t.Errorf("LogLevel %s: %s ApplicationLogLevel = %v, want %s", level, fn, got, want)
			}
			if got := at(lc, "LogFormat"); got != "JSON" {
				t.Errorf("%s LogFormat = %v, want JSON (log-level filtering needs it)", fn, got)
			}
			if got := at(d.resource(fn), "Environment", "Variables", "LOG_LEVEL"); got != level {
				t.Errorf("%s LOG_LEVEL = %v, want %s", fn, got, level)
			}
		}
	}
}

func TestTemplateAccessLogGroupIsVended(t *testing.T) {
	d, err := deploy(t, loadTemplate(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprint(d.resource("HttpApiLogGroup")["LogGroupName"])
	if !strings.HasPrefix(name, "/aws/vendedlogs/") {
		t.Errorf("access log group %s, want it under /aws/vendedlogs/", name)
	}
}

func TestTemplateUserPoolEmail(t *testing.T) {
	tpl := loadTemplate(t)
	const identity = "arn:aws:ses:eu-west-1:111122223333:identity/example.com"
	tests := []struct {
		name    string
		params  map[string]string
		want    string // fmt of EmailConfiguration; "" for none
		refused bool
	}{
		{name: "Cognito's sender by default", params: map[string]string{}, want: ""},
		{name: "an SES identity", params: map[string]string{"SesIdentityArn": identity}, want: "map[EmailSendingAccount:DEVELOPER SourceArn:" + identity + "]"},
		{name: "an SES identity and a From", params: map[string]string{"SesIdentityArn": identity, "SesFromAddress": "Example <no-reply@example.com>"},
			want: "map[EmailSendingAccount:DEVELOPER From:Example <no-reply@example.com> SourceArn:" + identity + "]"},
		{name: "a From without an identity", params: map[string]string{"SesFromAddress": "no-reply@example.com"}, refused: true},
		{name: "not an SES ARN", params: map[string]string{"SesIdentityArn": "example.com"}, refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := deploy(t, tpl, tt.params)
			if tt.refused {
				if err == nil {
					t.Error("deployed, want refused")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if ec, ok := d.resource("UserPool")["EmailConfiguration"]; ok {
				got = fmt.Sprint(ec)
			}
			if got != tt.want {
				t.Errorf("EmailConfiguration = %q, want %q", got, tt.want)
			}
		})
	}
}
