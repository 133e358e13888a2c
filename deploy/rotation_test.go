// Tests of the template's rotation (docs/deploy.md, "7. Rotate the Intercom
// secret"): RotationDays 0 deploys none
// of it; otherwise one schedule per platform secret, a rotation function
// with the four actions of the protocol on exactly those secrets and
// GetSecretValue on the access token, invoked by Secrets Manager of the
// account only, with an alarm; and a rotation period that provably
// outlives every cache and JWT the parameters allow.

package deploy_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intercom-identity/userhash/internal/envvars"
	"github.com/intercom-identity/userhash/shared/secrets"
)

const tokenARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:intercom-api-token-ZyXwVu"

// rotationResources are what rotation adds to a stack.
var rotationResources = []string{
	"RotateSecretFunction", "RotateSecretLogGroup", "RotateSecretInvokePermission",
	"IosRotationSchedule", "AndroidRotationSchedule", "WebRotationSchedule", "RotationErrorsAlarm",
}

func TestTemplateRotationOffByDefault(t *testing.T) {
	d, err := deploy(t, loadTemplate(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rotationResources {
		if _, ok := d.resources[r]; ok {
			t.Errorf("with RotationDays 0 the stack creates %s", r)
		}
	}
	if got := d.of("AWS::SecretsManager::RotationSchedule"); len(got) != 0 {
		t.Errorf("rotation schedules = %v, want none", got)
	}
}

func TestTemplateRotationEnvironmentIsWhatTheCodeReads(t *testing.T) {
	vars, ok := at(loadTemplate(t), "Resources", "RotateSecretFunction", "Properties", "Environment", "Variables").(map[string]any)
	if !ok {
		t.Fatal("RotateSecretFunction has no Environment.Variables")
	}
	var got, want []string
	for name := range vars {
		got = append(got, name)
	}
	for _, name := range envvars.Rotate() {
		// Lambda sets its own AWS_LAMBDA_* variables, the region and the
		// execution role's credentials, and refuses them as function
		// variables; the AWS_ENDPOINT_URL* overrides are for tests.
		if !strings.HasPrefix(name, "AWS_") {
			want = append(want, name)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("rotation function environment = %v\nwant what config.LoadRotation reads less the AWS_ variables = %v", got, want)
	}
}

func TestTemplateRotation(t *testing.T) {
	tpl := loadTemplate(t)
	tests := []struct {
		name    string
		params  map[string]string
		secrets []string // the rotated secrets' ARNs, as IAM and the schedules name them
		token   string   // the access token's ARN in IAM
		kms     string
		url     string
	}{
		{
			name:    "the stack's own secrets",
			params:  map[string]string{"RotationDays": "30", "IntercomAccessTokenSecretArn": tokenARN},
			secrets: []string{"<IosSecret>", "<AndroidSecret>", "<WebSecret>"},
			token:   tokenARN,
			url:     "https://api.intercom.io",
		},
		{
			name: "existing secrets, a KMS key, a token in a JSON secret, the EU API",
			params: map[string]string{
				"RotationDays": "90", "IntercomAccessTokenSecretArn": tokenARN + "#intercom",
				"IosSecretArn": sharedARN, "WebSecretArn": webARN, "KmsKeyArn": kmsKeyARN,
				"IntercomApiUrl": "https://api.eu.intercom.io",
			},
			secrets: []string{sharedARN, "<AndroidSecret>", webARN},
			token:   tokenARN,
			kms:     kmsKeyARN,
			url:     "https://api.eu.intercom.io",
		},
		{
			name: "only the platforms in Platforms",
			params: map[string]string{
				"RotationDays": "60", "IntercomAccessTokenSecretArn": tokenARN,
				"Platforms": "ios,web", "WebSecretArn": webARN, "AndroidSecretArn": sharedARN,
			},
			secrets: []string{"<IosSecret>", webARN},
			token:   tokenARN,
			url:     "https://api.intercom.io",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := deploy(t, tpl, tt.params)
			if err != nil {
				t.Fatalf("the parameters are refused: %v", err)
			}
			fn := d.resource("RotateSecretFunction")
			env := at(fn, "Environment", "Variables").(map[string]any)
			for k, want := range map[string]string{
				"INTERCOM_TOKEN_SECRET_ID": tt.params["IntercomAccessTokenSecretArn"],
				"INTERCOM_API_URL":         tt.url,
			} {
				if got := fmt.Sprint(env[k]); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			// The rotated secrets are the ones the user-hash function reads.
			userEnv := at(d.resource("UserHashFunction"), "Environment", "Variables").(map[string]any)
			for _, k := range []string{"IOS_SECRET_ID", "ANDROID_SECRET_ID", "WEB_SECRET_ID"} {
				if env[k] != userEnv[k] {
					t.Errorf("%s = %v for rotation, %v for the user-hash function", k, env[k], userEnv[k])
				}
			}
			if got := fmt.Sprint(fn["Timeout"]); got != "30" {
				t.Errorf("rotation function timeout = %s, want 30 (a step's calls are bounded at 5s each)", got)
			}

			checkRotationIAM(t, d, tt.secrets, tt.token, tt.kms)

			var scheduled []string
			for _, name := range d.of("AWS::SecretsManager::RotationSchedule") {
				s := d.resource(name)
				scheduled = append(scheduled, fmt.Sprint(s["SecretId"]))
				if s["RotationLambdaARN"] != "<RotateSecretFunction.Arn>" {
					t.Errorf("%s rotates with %v", name, s["RotationLambdaARN"])
				}
				if got := fmt.Sprint(at(s, "RotationRules", "AutomaticallyAfterDays")); got != tt.params["RotationDays"] {
					t.Errorf("%s rotates every %s days, want %s", name, got, tt.params["RotationDays"])
				}
				if fmt.Sprint(s["RotateImmediatelyOnUpdate"]) != "false" {
					t.Errorf("%s rotates on every stack update; two rotations close together delete a secret just retired", name)
				}
			}
			if !sameSet(scheduled, tt.secrets) {
				t.Errorf("schedules rotate %v, want %v", scheduled, tt.secrets)
			}

			perm := d.resource("RotateSecretInvokePermission")
			if perm["Principal"] != "secretsmanager.amazonaws.com" || perm["SourceAccount"] != pseudo["AWS::AccountId"] ||
				perm["FunctionName"] != "<RotateSecretFunction.Arn>" || perm["Action"] != "lambda:InvokeFunction" {
				t.Errorf("invoke permission = %v, want Secrets Manager of this account only", perm)
			}

			alarm := d.resource("RotationErrorsAlarm")
			if alarm["Namespace"] != "AWS/Lambda" || alarm["MetricName"] != "Errors" ||
				!strings.Contains(fmt.Sprint(alarm["Dimensions"]), "<RotateSecretFunction>") || fmt.Sprint(alarm["Threshold"]) != "1" {
				t.Errorf("rotation alarm = %v, want the rotation function's Errors, at the first one", alarm)
			}
			if d.outputs["RotateSecretFunctionArn"] != "<RotateSecretFunction.Arn>" || d.outputs["RotationAlarmName"] != "<RotationErrorsAlarm>" {
				t.Errorf("outputs = %v, want the rotation function and its alarm", d.outputs)
			}
		})
	}
}

// checkRotationIAM holds the rotation function's policy to exactly: the
// four rotation actions on the rotated secrets, GetSecretValue on the
// token, and kms:Decrypt and GenerateDataKey through Secrets Manager only
// for a given key. The user-hash function keeps its one action.
func checkRotationIAM(t *testing.T, d *deployment, rotated []string, token, kms string) {
	t.Helper()
	fn := d.resource("RotateSecretFunction")
	for _, p := range []string{"Role", "ManagedPolicyArns", "PermissionsBoundary"} {
		if fn[p] != nil {
			t.Errorf("RotateSecretFunction sets %s; its permissions must come from its own Policies only", p)
		}
	}
	policies, _ := fn["Policies"].([]any)
	if len(policies) != 1 {
		t.Fatalf("RotateSecretFunction has %d policies, want one inline policy document", len(policies))
	}
	rotateActions := []string{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"}
	var gotRotated, gotToken []string
	gotKMS := ""
	for _, s := range at(policies[0], "Statement").([]any) {
		actions, resources := strs(at(s, "Action")), strs(at(s, "Resource"))
		if at(s, "Effect") != "Allow" || at(s, "NotAction") != nil || at(s, "NotResource") != nil {
			t.Errorf("statement %v: want a plain Allow with Action and Resource", s)
		}
		for _, r := range resources {
			if strings.ContainsAny(r, "*#") {
				t.Errorf("statement %v: resource %q is a wildcard or keeps its #key", at(s, "Sid"), r)
			}
		}
		switch {
		case sameSet(actions, rotateActions) && len(actions) == len(rotateActions):
			gotRotated = append(gotRotated, resources...)
		case slices.Equal(actions, []string{"secretsmanager:GetSecretValue"}):
			gotToken = append(gotToken, resources...)
		case sameSet(actions, []string{"kms:Decrypt", "kms:GenerateDataKey"}):
			gotKMS = strings.Join(resources, ",")
			if via := fmt.Sprint(at(s, "Condition", "StringEquals", "kms:ViaService")); via != "secretsmanager."+pseudo["AWS::Region"]+".amazonaws.com" {
				t.Errorf("kms condition kms:ViaService = %q, want Secrets Manager of the stack's region only", via)
			}
		default:
			t.Errorf("statement %v allows %v, which rotation does not need", at(s, "Sid"), actions)
		}
	}
	if !sameSet(gotRotated, rotated) || len(gotRotated) != len(rotated) {
		t.Errorf("rotation actions on %v, want exactly %v", gotRotated, rotated)
	}
	if !slices.Equal(gotToken, []string{token}) {
		t.Errorf("GetSecretValue alone on %v, want the access token's secret %s", gotToken, token)
	}
	if gotKMS != kms {
		t.Errorf("kms resources = %q, want %q", gotKMS, kms)
	}
	// Whatever the parameters, rotation acts on the secrets the rotation
	// function's environment names, without their #key.
	env := at(fn, "Environment", "Variables").(map[string]any)
	var named []string
	for _, k := range []string{"IOS_SECRET_ID", "ANDROID_SECRET_ID", "WEB_SECRET_ID"} {
		if id, ok := env[k]; ok {
			arn, _, _ := strings.Cut(fmt.Sprint(id), "#")
			named = append(named, arn)
		}
	}
	if !sameSet(gotRotated, named) {
		t.Errorf("rotation actions on %v, but the function is configured with %v", gotRotated, named)
	}
	// The user-hash function still reads, and only reads.
	for _, s := range at(d.resource("UserHashFunction")["Policies"].([]any)[0], "Statement").([]any) {
		for _, a := range strs(at(s, "Action")) {
			if a != "secretsmanager:GetSecretValue" && a != "secretsmanager:BatchGetSecretValue" && a != "kms:Decrypt" {
				t.Errorf("with rotation on, the user-hash function may %s", a)
			}
		}
	}
}

func TestTemplateRotationRefuses(t *testing.T) {
	tpl := loadTemplate(t)
	on := func(extra map[string]string) map[string]string {
		p := map[string]string{"RotationDays": "30", "IntercomAccessTokenSecretArn": tokenARN}
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	tests := []struct {
		name    string
		params  map[string]string
		wantErr string // "" for accepted
	}{
		{"a week is shorter than the caches and JWTs may need", on(map[string]string{"RotationDays": "7"}), "RotationOutlivesCaches"},
		{"13 days", on(map[string]string{"RotationDays": "13"}), "RotationOutlivesCaches"},
		{"14 days", on(map[string]string{"RotationDays": "14"}), ""},
		{"1000 days", on(map[string]string{"RotationDays": "1000"}), ""},
		{"beyond Secrets Manager's 1000 days", on(map[string]string{"RotationDays": "1001"}), "RotationDays"},
		{"negative", map[string]string{"RotationDays": "-1"}, "RotationDays"},
		{"a week with a leading zero", on(map[string]string{"RotationDays": "07"}), "RotationDays"},
		{"a fraction", on(map[string]string{"RotationDays": "13.5"}), "RotationDays"},
		{"an exponent", on(map[string]string{"RotationDays": "1e1"}), "RotationDays"},
		{"no access token", map[string]string{"RotationDays": "30"}, "RotationNeedsAccessToken"},
		{"a token secret's name, not its ARN", on(map[string]string{"IntercomAccessTokenSecretArn": "intercom/token"}), "IntercomAccessTokenSecretArn"},
		{"an API that is not Intercom's", on(map[string]string{"IntercomApiUrl": "https://example.com"}), "IntercomApiUrl"},
		{"a token alone does not rotate", map[string]string{"IntercomAccessTokenSecretArn": tokenARN}, ""},
		{"a cache TTL of 100 hours", map[string]string{"SecretCacheTtl": "100h"}, "SecretCacheTtl"},
		{"a max-stale of 100 minutes in minutes", map[string]string{"SecretMaxStale": "100m"}, "SecretMaxStale"},
		{"a JWT lifetime of a week", map[string]string{"UserJwtTtl": "168h"}, "UserJwtTtl"},
		{"a JWT lifetime in four-digit ms", map[string]string{"UserJwtTtl": "1000ms"}, "UserJwtTtl"},
		{"an empty cache TTL", map[string]string{"SecretCacheTtl": ""}, "SecretCacheTtl"},
		{"the longest durations", map[string]string{"SecretCacheTtl": "99h99m99s999ms", "SecretMaxStale": "99h99m99s999ms", "UserJwtTtl": "99h99m99s999ms"}, ""},
		{"everyday durations", map[string]string{"SecretCacheTtl": "90s", "SecretMaxStale": "1h30m", "UserJwtTtl": "0"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := deploy(t, tpl, tt.params)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("deploy(%v) error = %v, want one about %s", tt.params, err, tt.wantErr)
			}
		})
	}
}

// TestRotationPeriodOutlivesCaches works out, from the template itself,
// that its shortest rotation period is longer than the longest cache TTL
// (with the cache's jitter) plus max-stale plus JWT lifetime that its
// parameters accept: the condition for no hash or JWT failing while old and
// new secrets verify side by side.
func TestRotationPeriodOutlivesCaches(t *testing.T) {
	tpl := loadTemplate(t)
	shortest := 0
	for days := 1; days <= 1000 && shortest == 0; days++ {
		if _, err := deploy(t, tpl, map[string]string{"RotationDays": fmt.Sprint(days), "IntercomAccessTokenSecretArn": tokenARN}); err == nil {
			shortest = days
		}
	}
	if shortest == 0 {
		t.Fatal("no RotationDays from 1 to 1000 is accepted")
	}
	// The durations take at most two digits per unit (three for ms): the
	// longest accepted is 99h99m99s999ms; one more digit anywhere is refused.
	longest := map[string]time.Duration{}
	for _, p := range []string{"SecretCacheTtl", "SecretMaxStale", "UserJwtTtl"} {
		if _, err := deploy(t, tpl, map[string]string{p: "99h99m99s999ms"}); err != nil {
			t.Fatalf("%s refuses 99h99m99s999ms: %v", p, err)
		}
		for _, longer := range []string{"100h", "99h100m", "99h99m100s", "99h99m99s1000ms", "1h1h", "99h99m99s999ms1ms"} {
			if _, err := deploy(t, tpl, map[string]string{p: longer}); err == nil {
				t.Errorf("%s accepts %s, longer than the bound the rotation period is worked out from", p, longer)
			}
		}
		d, err := time.ParseDuration("99h99m99s999ms")
		if err != nil {
			t.Fatal(err)
		}
		longest[p] = d
	}
	need := time.Duration(float64(longest["SecretCacheTtl"])*(1+secrets.DefaultJitter)) + longest["SecretMaxStale"] + longest["UserJwtTtl"]
	period := time.Duration(shortest) * 24 * time.Hour
	if period <= need {
		t.Errorf("the shortest rotation period, %d days, is not longer than the longest TTL+jitter+max-stale+JWT lifetime, %v", shortest, need)
	}
	t.Logf("shortest rotation period %d days > %v (%.2f days) needed at most", shortest, need, need.Hours()/24)
}

// TestTemplateRotationReadsTheFunctionsLifetimes holds the rotation
// function to the user-hash function's SECRET_CACHE_TTL, SECRET_MAX_STALE
// and USER_JWT_TTL, whatever the parameters: it judges from them when an
// old Intercom secret is out of use.
func TestTemplateRotationReadsTheFunctionsLifetimes(t *testing.T) {
	tpl := loadTemplate(t)
	for _, params := range []map[string]string{
		{},
		{"SecretCacheTtl": "90s", "SecretMaxStale": "0", "UserJwtTtl": "15m"},
		{"SecretCacheTtl": "2h", "SecretMaxStale": "99h", "UserJwtTtl": "0"},
	} {
		params["RotationDays"], params["IntercomAccessTokenSecretArn"] = "30", sharedARN
		d, err := deploy(t, tpl, params)
		if err != nil {
			t.Fatalf("%v: %v", params, err)
		}
		fn := at(d.resource("UserHashFunction"), "Environment", "Variables")
		rot := at(d.resource("RotateSecretFunction"), "Environment", "Variables")
		for _, name := range []string{"SECRET_CACHE_TTL", "SECRET_MAX_STALE", "USER_JWT_TTL"} {
			if got, want := fmt.Sprint(at(rot, name)), fmt.Sprint(at(fn, name)); got != want || got == "<nil>" {
				t.Errorf("%v: the rotation function's %s = %s, the user-hash function's %s", params, name, got, want)
			}
		}
	}
}
