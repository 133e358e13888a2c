package config_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/intercom-identity/userhash/shared/config"
)

const (
	iosARN   = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:IosSecret-AbCdEf"
	webARN   = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:WebSecret-GhIjKl"
	tokenARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:intercom-token-MnOpQr"
)

func TestLoadRotation(t *testing.T) {
	c, err := config.LoadRotation(lookup(map[string]string{
		"AWS_LAMBDA_RUNTIME_API":   "127.0.0.1:9001",
		"AWS_LAMBDA_FUNCTION_NAME": "RotateSecretFunction",
		"IOS_SECRET_ID":            iosARN,
		"WEB_SECRET_ID":            webARN,
		"ANDROID_SECRET_ID":        "",
		"INTERCOM_TOKEN_SECRET_ID": tokenARN + "#token",
		"LOG_LEVEL":                "debug",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ios": iosARN, "web": webARN}
	if len(c.SecretIDs) != len(want) || c.SecretIDs["ios"] != iosARN || c.SecretIDs["web"] != webARN {
		t.Errorf("SecretIDs = %v, want %v", c.SecretIDs, want)
	}
	if c.IntercomTokenSecretID != tokenARN+"#token" {
		t.Errorf("IntercomTokenSecretID = %q", c.IntercomTokenSecretID)
	}
	if c.IntercomAPIURL != "" || !c.InLambda || c.FunctionName != "RotateSecretFunction" || c.LogLevel != slog.LevelDebug {
		t.Errorf("config = %+v", c)
	}
}

func TestLoadRotationRefuses(t *testing.T) {
	base := map[string]string{"IOS_SECRET_ID": iosARN, "INTERCOM_TOKEN_SECRET_ID": tokenARN}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"no platform secret", map[string]string{"IOS_SECRET_ID": ""}, "IOS_SECRET_ID: no platform secret to rotate"},
		{"a field of a shared JSON secret", map[string]string{"IOS_SECRET_ID": iosARN + "#ios"}, `IOS_SECRET_ID: rotation replaces the whole value of a secret, so it cannot rotate field "ios"`},
		{"one secret for two platforms", map[string]string{"WEB_SECRET_ID": iosARN}, "WEB_SECRET_ID: the same secret as IOS_SECRET_ID"},
		{"no token secret", map[string]string{"INTERCOM_TOKEN_SECRET_ID": ""}, "INTERCOM_TOKEN_SECRET_ID: not set"},
		{"the token in a platform's secret", map[string]string{"INTERCOM_TOKEN_SECRET_ID": iosARN + "#token"}, "INTERCOM_TOKEN_SECRET_ID: the same secret as IOS_SECRET_ID"},
		{"token ID with white space", map[string]string{"INTERCOM_TOKEN_SECRET_ID": "a b"}, "INTERCOM_TOKEN_SECRET_ID: "},
		{"log level", map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL: "},
		{"white space in an ID", map[string]string{"WEB_SECRET_ID": "a b"}, "WEB_SECRET_ID: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := config.LoadRotation(lookup(env))
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error = %v, want one line starting %q", err, tt.wantErr)
			}
		})
	}
}

// TestLoadRotationReadsTheLifetimes checks the rotation function reads
// SECRET_CACHE_TTL, SECRET_MAX_STALE and USER_JWT_TTL as the user-hash
// function does, defaults included: the two must agree on how long a
// retired secret may still be in use.
func TestLoadRotationReadsTheLifetimes(t *testing.T) {
	for _, env := range []map[string]string{
		{},
		{"SECRET_CACHE_TTL": "90s", "SECRET_MAX_STALE": "0", "USER_JWT_TTL": "15m"},
		{"SECRET_CACHE_TTL": "2h", "SECRET_MAX_STALE": "30m", "USER_JWT_TTL": "0"},
	} {
		env["IOS_SECRET_ID"], env["INTERCOM_TOKEN_SECRET_ID"] = iosARN, tokenARN
		rot, err := config.LoadRotation(lookup(env))
		if err != nil {
			t.Fatalf("LoadRotation(%v): %v", env, err)
		}
		fn, err := config.Load(lookup(map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "IOS_SECRET_ID": iosARN,
			"SECRET_CACHE_TTL": env["SECRET_CACHE_TTL"], "SECRET_MAX_STALE": env["SECRET_MAX_STALE"], "USER_JWT_TTL": env["USER_JWT_TTL"]}))
		if err != nil {
			t.Fatalf("Load(%v): %v", env, err)
		}
		if rot.SecretCacheTTL != fn.SecretCacheTTL || rot.SecretMaxStale != fn.SecretMaxStale || rot.UserJWTTTL != fn.UserJWTTTL {
			t.Errorf("%v: the rotation function reads %v %v %v, the user-hash function %v %v %v", env,
				rot.SecretCacheTTL, rot.SecretMaxStale, rot.UserJWTTTL, fn.SecretCacheTTL, fn.SecretMaxStale, fn.UserJWTTTL)
		}
	}
	if _, err := config.LoadRotation(lookup(map[string]string{"IOS_SECRET_ID": iosARN, "INTERCOM_TOKEN_SECRET_ID": tokenARN, "SECRET_MAX_STALE": "forever"})); err == nil || !strings.HasPrefix(err.Error(), "SECRET_MAX_STALE: ") {
		t.Errorf("a malformed SECRET_MAX_STALE: error = %v, want one naming it", err)
	}
}
