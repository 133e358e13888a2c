package config_test

import (
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/config"
	"github.com/intercom-identity/userhash/shared/platform"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := config.Load(lookup(map[string]string{"AUTH_MODE": "password", "ANDROID_SECRET": "a"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != config.ModePassword || c.SecretCacheTTL != 5*time.Minute || c.SecretMaxStale != time.Hour ||
		c.UserJWTTTL != time.Hour || c.Claims.UserID != "sub" || c.Claims.Email != "email" ||
		c.ListenAddr != "127.0.0.1:3000" || c.UsersFile != config.DefaultUsersFile || c.InLambda {
		t.Errorf("defaults = %+v", c)
	}
	if got := c.Platforms(); len(got) != 1 || got[0] != platform.Android {
		t.Errorf("Platforms() = %v, want [android]", got)
	}
	if c.UsesSecretsManager() || c.UsesCognito() {
		t.Error("literal secrets and the users file need no AWS")
	}
}

func TestLoadSecretsManagerInLambda(t *testing.T) {
	c, err := config.Load(lookup(map[string]string{
		"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
		"IOS_SECRET_ID":          "arn:aws:secretsmanager:us-east-1:123456789012:secret:intercom-AbCdEf#ios",
		"WEB_SECRET_ID":          "intercom/web",
		"USER_ID_CLAIM":          "custom:intercom_id",
		"USER_JWT_TTL":           "0",
		"SECRET_CACHE_TTL":       "30s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.InLambda || c.Mode != config.ModeJWT || !c.UsesSecretsManager() || c.UserJWTTTL != 0 || c.SecretCacheTTL != 30*time.Second {
		t.Errorf("config = %+v", c)
	}
	ios := c.Secrets[platform.IOS].Ref
	if ios.ID != "arn:aws:secretsmanager:us-east-1:123456789012:secret:intercom-AbCdEf" || ios.Key != "ios" {
		t.Errorf("IOS ref = %+v", ios)
	}
	if web := c.Secrets[platform.Web].Ref; web.ID != "intercom/web" || web.Key != "" {
		t.Errorf("WEB ref = %+v", web)
	}
	if c.Claims.UserID != "custom:intercom_id" {
		t.Errorf("Claims = %+v", c.Claims)
	}
}

// TestLoadRejects checks every refusal is one line naming the variable.
func TestLoadRejects(t *testing.T) {
	base := map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "s3cr3t-value"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	inLambda := map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "IOS_SECRET_ID": "ios"}
	tests := []struct {
		name     string
		env      map[string]string
		variable string
	}{
		{name: "unknown mode", env: with("AUTH_MODE", "oauth"), variable: "AUTH_MODE"},
		{name: "malformed TTL", env: with("SECRET_CACHE_TTL", "5"), variable: "SECRET_CACHE_TTL"},
		{name: "TTL under a second", env: with("SECRET_CACHE_TTL", "500ms"), variable: "SECRET_CACHE_TTL"},
		{name: "negative max stale", env: with("SECRET_MAX_STALE", "-1m"), variable: "SECRET_MAX_STALE"},
		{name: "malformed JWT TTL", env: with("USER_JWT_TTL", "1 hour"), variable: "USER_JWT_TTL"},
		{name: "JWT TTL under a second", env: with("USER_JWT_TTL", "10ms"), variable: "USER_JWT_TTL"},
		{name: "unknown log level", env: with("LOG_LEVEL", "verbose"), variable: "LOG_LEVEL"},
		{name: "literal and ID", env: with("IOS_SECRET_ID", "ios"), variable: "IOS_SECRET"},
		{name: "no secret", env: map[string]string{"AUTH_MODE": "password"}, variable: "SECRET_ID"},
		{name: "empty secret ID", env: map[string]string{"AUTH_MODE": "password", "WEB_SECRET_ID": "#key"}, variable: "WEB_SECRET_ID"},
		{name: "empty key", env: map[string]string{"AUTH_MODE": "password", "WEB_SECRET_ID": "web#"}, variable: "WEB_SECRET_ID"},
		{name: "literal in Lambda", env: map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "ANDROID_SECRET": "s3cr3t-value"}, variable: "ANDROID_SECRET_ID"},
		{name: "password mode in Lambda without Cognito", env: map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "AUTH_MODE": "password", "IOS_SECRET_ID": "ios"}, variable: "COGNITO_CLIENT_ID"},
		{name: "client secret without client", env: with("COGNITO_CLIENT_SECRET_ID", "cs"), variable: "COGNITO_CLIENT_SECRET_ID"},
		{name: "local jwt mode without issuer", env: map[string]string{"IOS_SECRET": "s3cr3t-value"}, variable: "JWT_ISSUER"},
		{name: "local jwt mode without audience", env: map[string]string{"IOS_SECRET": "s3cr3t-value", "JWT_ISSUER": "https://issuer.example"}, variable: "JWT_AUDIENCE"},
		{name: "issuer not a URL", env: map[string]string{"IOS_SECRET": "s3cr3t-value", "JWT_ISSUER": "issuer.example", "JWT_AUDIENCE": "a"}, variable: "JWT_ISSUER"},
		{name: "same claim for both", env: with("USER_ID_CLAIM", "email"), variable: "EMAIL_CLAIM"},
		{name: "password mode with a real secret and the demo users", env: map[string]string{"AUTH_MODE": "password", "IOS_SECRET_ID": "prod/ios"}, variable: "USERS_FILE"},
		{name: "password mode with one real secret among literal ones", env: with("WEB_SECRET_ID", "prod/web"), variable: "USERS_FILE"},
		{name: "password mode with a real secret and an empty USERS_FILE", env: map[string]string{"AUTH_MODE": "password", "ANDROID_SECRET_ID": "prod/android", "USERS_FILE": ""}, variable: "USERS_FILE"},
		{name: "lambda fine but bad TTL", env: func() map[string]string {
			m := map[string]string{"SECRET_MAX_STALE": "forever"}
			for k, v := range inLambda {
				m[k] = v
			}
			return m
		}(), variable: "SECRET_MAX_STALE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(lookup(tt.env))
			if err == nil {
				t.Fatal("Load() error = nil, want a refusal")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.variable) && !strings.Contains(msg, tt.variable) || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line naming %s", msg, tt.variable)
			}
			if strings.Contains(msg, "s3cr3t-value") {
				t.Errorf("error %q contains the secret", msg)
			}
		})
	}
}

// TestJWTModeInLambdaNeedsNoIssuer checks that behind API Gateway the
// gateway verifies tokens, so the function needs no issuer of its own.
func TestJWTModeInLambdaNeedsNoIssuer(t *testing.T) {
	if _, err := config.Load(lookup(map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "IOS_SECRET_ID": "ios"})); err != nil {
		t.Errorf("Load() = %v, want nil", err)
	}
}

func TestLogLevelAndOrigins(t *testing.T) {
	c, err := config.Load(lookup(map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "IOS_SECRET_ID": "ios", "AWS_LAMBDA_LOG_LEVEL": "DEBUG"}))
	if err != nil || c.LogLevel != slog.LevelDebug {
		t.Errorf("Lambda's log level: %v, %v; want debug", c.LogLevel, err)
	}
	c, err = config.Load(lookup(map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "IOS_SECRET_ID": "ios", "AWS_LAMBDA_LOG_LEVEL": "DEBUG", "LOG_LEVEL": "error"}))
	if err != nil || c.LogLevel != slog.LevelError {
		t.Errorf("LOG_LEVEL over Lambda's: %v, %v; want error", c.LogLevel, err)
	}
	c, err = config.Load(lookup(map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x", "ALLOWED_ORIGINS": "capacitor://localhost, http://localhost:8100,"}))
	if err != nil || strings.Join(c.AllowedOrigins, "|") != "capacitor://localhost|http://localhost:8100" {
		t.Errorf("ALLOWED_ORIGINS = %q, %v", c.AllowedOrigins, err)
	}
}

// TestLoadEmailVerifiedClaim tells EMAIL_VERIFIED_CLAIM unset (the
// default claim) from set and empty (the issuer vouches for its emails).
func TestLoadEmailVerifiedClaim(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		wantClaim   string
		wantTrusted bool
	}{
		{name: "unset: email_verified", env: map[string]string{}, wantClaim: "email_verified"},
		{name: "another claim", env: map[string]string{"EMAIL_VERIFIED_CLAIM": "custom:email_checked"}, wantClaim: "custom:email_checked"},
		{name: "set and empty: the issuer only issues verified emails", env: map[string]string{"EMAIL_VERIFIED_CLAIM": ""}, wantTrusted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x"}
			maps.Copy(env, tt.env)
			c, err := config.Load(lookup(env))
			if err != nil {
				t.Fatal(err)
			}
			if c.Claims.EmailVerified != tt.wantClaim || c.Claims.IssuerVerifiesEmails != tt.wantTrusted {
				t.Errorf("Claims = %+v, want EmailVerified %q, IssuerVerifiesEmails %v", c.Claims, tt.wantClaim, tt.wantTrusted)
			}
			// The rule, end to end: an unverified email is unknown unless
			// the issuer is trusted with its emails.
			id := c.Claims.Identity(map[string]string{"sub": "u", "email": "e@x", "email_verified": "false"})
			if (id.Email != "") != tt.wantTrusted {
				t.Errorf("email of an unverified token = %q, want it only when the issuer is trusted", id.Email)
			}
		})
	}
}

// TestUsersFile checks where the demo users file is the default: only in
// password mode on the local server, beside literal (demo) secrets. With a
// secret from Secrets Manager the users file must be named.
func TestUsersFile(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "literal secrets: the demo users", env: map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x"}, want: config.DefaultUsersFile},
		{name: "literal secrets, a file given", env: map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x", "USERS_FILE": "/etc/users.json"}, want: "/etc/users.json"},
		{name: "a real secret, a file given", env: map[string]string{"AUTH_MODE": "password", "IOS_SECRET_ID": "prod/ios", "USERS_FILE": "/etc/users.json"}, want: "/etc/users.json"},
		{name: "a real secret, the demo file named explicitly", env: map[string]string{"AUTH_MODE": "password", "IOS_SECRET_ID": "prod/ios", "USERS_FILE": "demo/users.json"}, want: "demo/users.json"},
		{name: "Cognito reads no users file", env: map[string]string{"AUTH_MODE": "password", "IOS_SECRET_ID": "prod/ios", "COGNITO_CLIENT_ID": "c"}, want: ""},
		{name: "jwt mode reads no users file", env: map[string]string{"IOS_SECRET_ID": "prod/ios", "JWT_ISSUER": "https://issuer.example", "JWT_AUDIENCE": "a"}, want: ""},
		{name: "Lambda reads no users file", env: map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "AUTH_MODE": "password", "IOS_SECRET_ID": "prod/ios", "COGNITO_CLIENT_ID": "c"}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Load(lookup(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.UsersFile != tt.want {
				t.Errorf("UsersFile = %q, want %q", c.UsersFile, tt.want)
			}
		})
	}
}

func TestLoadUserJWTAttributes(t *testing.T) {
	c, err := config.Load(lookup(map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x", "USER_JWT_ATTRIBUTES": "name=name, plan=custom:plan"}))
	if err != nil {
		t.Fatal(err)
	}
	want := []auth.Attribute{{Name: "name", Claim: "name"}, {Name: "plan", Claim: "custom:plan"}}
	if !slices.Equal(c.Claims.Attributes, want) {
		t.Errorf("Attributes = %v, want %v", c.Claims.Attributes, want)
	}
	c, err = config.Load(lookup(map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x"}))
	if err != nil || c.Claims.Attributes != nil {
		t.Errorf("unset: Attributes = %v, %v; want none", c.Claims.Attributes, err)
	}
}

// TestLoadRejectsClaimSettings checks each refusal is one line that starts
// with the variable at fault.
func TestLoadRejectsClaimSettings(t *testing.T) {
	tests := []struct {
		name, variable, value string
	}{
		{"a reserved attribute", "USER_JWT_ATTRIBUTES", "user_id=custom:intercom_id"},
		{"email as an attribute", "USER_JWT_ATTRIBUTES", "email=custom:contact"},
		{"a registered claim as an attribute", "USER_JWT_ATTRIBUTES", "name=name,exp=custom:expiry"},
		{"a reserved name in another case", "USER_JWT_ATTRIBUTES", "Sub=sub"},
		{"a pair without =", "USER_JWT_ATTRIBUTES", "name"},
		{"a pair without a claim", "USER_JWT_ATTRIBUTES", "name="},
		{"a pair without a name", "USER_JWT_ATTRIBUTES", "=name"},
		{"a stray comma", "USER_JWT_ATTRIBUTES", "name=name,"},
		{"two =", "USER_JWT_ATTRIBUTES", "name=given=name"},
		{"an attribute twice", "USER_JWT_ATTRIBUTES", "plan=custom:plan,plan=custom:tier"},
		{"the email's own claim", "EMAIL_VERIFIED_CLAIM", "email"},
		{"the user_id's claim", "EMAIL_VERIFIED_CLAIM", "sub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(lookup(map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "s3cr3t-value", tt.variable: tt.value}))
			if err == nil {
				t.Fatalf("%s=%q: Load() error = nil, want a refusal", tt.variable, tt.value)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, tt.variable+": ") || strings.Contains(msg, "\n") || strings.Contains(msg, "s3cr3t-value") {
				t.Errorf("error = %q, want one line starting with %s", msg, tt.variable)
			}
		})
	}
	_, err := config.Load(lookup(map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x", "USER_JWT_TTL": "0", "USER_JWT_ATTRIBUTES": "name=name"}))
	if err == nil || !strings.HasPrefix(err.Error(), "USER_JWT_ATTRIBUTES: ") {
		t.Errorf("attributes without a JWT: error = %v, want a refusal naming USER_JWT_ATTRIBUTES", err)
	}
}
