package main

import (
	"strings"
	"testing"

	"github.com/intercom-identity/userhash/shared/config"
	"github.com/intercom-identity/userhash/shared/intercom"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

const (
	iosARN   = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:IosSecret-AbCdEf"
	tokenARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:intercom-token-MnOpQr"
)

// load is config.LoadRotation of env, which must succeed.
func load(t *testing.T, env map[string]string) config.Rotation {
	t.Helper()
	env["IOS_SECRET_ID"], env["INTERCOM_TOKEN_SECRET_ID"] = iosARN, tokenARN+"#token"
	c, err := config.LoadRotation(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRotationConfig(t *testing.T) {
	rc, err := rotationConfig(load(t, map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if rc.IntercomAPIURL != intercom.DefaultBaseURL {
		t.Errorf("IntercomAPIURL = %q, want Intercom's default", rc.IntercomAPIURL)
	}
	if rc.IntercomToken != (secrets.Ref{ID: tokenARN, Key: "token"}) {
		t.Errorf("IntercomToken = %+v", rc.IntercomToken)
	}
	if len(rc.Secrets) != 1 || rc.Secrets[platform.IOS] != iosARN {
		t.Errorf("Secrets = %v, want iOS's alone", rc.Secrets)
	}

	eu, err := rotationConfig(load(t, map[string]string{"INTERCOM_API_URL": "https://api.eu.intercom.io/"}))
	if err != nil || eu.IntercomAPIURL != "https://api.eu.intercom.io" {
		t.Errorf("the EU host: %q, %v", eu.IntercomAPIURL, err)
	}
	for _, bad := range []string{"http://api.intercom.io", "api.intercom.io"} {
		_, err := rotationConfig(load(t, map[string]string{"INTERCOM_API_URL": bad}))
		if err == nil || !strings.HasPrefix(err.Error(), "INTERCOM_API_URL: ") || strings.Contains(err.Error(), "\n") {
			t.Errorf("INTERCOM_API_URL=%s: error = %v, want one line starting INTERCOM_API_URL: ", bad, err)
		}
	}
}
