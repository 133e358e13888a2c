package config_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/config"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// load runs config.Load over env and checks that every variable it read
// is one config.Variables lists: these tests take Load down each of its
// paths, so a variable read on a path that Variables does not reach fails
// here, whichever test reaches it.
func load(t *testing.T, env map[string]string) (config.Config, error) {
	t.Helper()
	var asked []string
	c, err := config.Load(func(name string) (string, bool) {
		asked = append(asked, name)
		return lookup(env)(name)
	})
	listed := config.Variables()
	for _, name := range asked {
		if !slices.Contains(listed, name) {
			t.Errorf("Load read %s, which config.Variables does not list: add a configuration that reaches it to loadConfigurations", name)
		}
	}
	return c, err
}

func TestLoadDefaults(t *testing.T) {
	c, err := load(t, map[string]string{"AUTH_MODE": "password", "ANDROID_SECRET": "a"})
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
	c, err := load(t, map[string]string{
		"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
		"IOS_SECRET_ID":          "arn:aws:secretsmanager:us-east-1:123456789012:secret:intercom-AbCdEf#ios",
		"WEB_SECRET_ID":          "intercom/web",
		"USER_ID_CLAIM":          "custom:intercom_id",
		"USER_JWT_TTL":           "0",
		"SECRET_CACHE_TTL":       "30s",
	})
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
		{name: "an unverified email as the user_id", env: with("USER_ID_CLAIM", "email", "EMAIL_CLAIM", "mail"), variable: "USER_ID_CLAIM"},
		{name: "a username the user picks", env: with("USER_ID_CLAIM", "preferred_username"), variable: "USER_ID_CLAIM"},
		{name: "a display name", env: with("USER_ID_CLAIM", "name"), variable: "USER_ID_CLAIM"},
		{name: "a nickname", env: with("USER_ID_CLAIM", "nickname"), variable: "USER_ID_CLAIM"},
		{name: "a phone number", env: with("USER_ID_CLAIM", "phone_number"), variable: "USER_ID_CLAIM"},
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
			_, err := load(t, tt.env)
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
	if _, err := load(t, map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "IOS_SECRET_ID": "ios"}); err != nil {
		t.Errorf("Load() = %v, want nil", err)
	}
}

func TestLogLevelAndOrigins(t *testing.T) {
	c, err := load(t, map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "IOS_SECRET_ID": "ios", "AWS_LAMBDA_LOG_LEVEL": "DEBUG"})
	if err != nil || c.LogLevel != slog.LevelDebug {
		t.Errorf("Lambda's log level: %v, %v; want debug", c.LogLevel, err)
	}
	c, err = load(t, map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "IOS_SECRET_ID": "ios", "AWS_LAMBDA_LOG_LEVEL": "DEBUG", "LOG_LEVEL": "error"})
	if err != nil || c.LogLevel != slog.LevelError {
		t.Errorf("LOG_LEVEL over Lambda's: %v, %v; want error", c.LogLevel, err)
	}
	c, err = load(t, map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x", "ALLOWED_ORIGINS": "capacitor://localhost, http://localhost:8100,"})
	if err != nil || strings.Join(c.AllowedOrigins, "|") != "capacitor://localhost|http://localhost:8100" {
		t.Errorf("ALLOWED_ORIGINS = %q, %v", c.AllowedOrigins, err)
	}
}

func TestCognitoClientSecretIsParsedOnce(t *testing.T) {
	c, err := load(t, map[string]string{
		"AWS_LAMBDA_RUNTIME_API": "x", "AUTH_MODE": "password", "IOS_SECRET_ID": "ios",
		"COGNITO_CLIENT_ID": "client", "COGNITO_CLIENT_SECRET_ID": "cognito/app#client_secret",
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := (secrets.Ref{ID: "cognito/app", Key: "client_secret"}); c.CognitoClientSecret != want {
		t.Errorf("CognitoClientSecret = %+v, want %+v", c.CognitoClientSecret, want)
	}
	if !c.UsesSecretsManager() || !c.UsesCognito() {
		t.Errorf("UsesSecretsManager() = %v, UsesCognito() = %v; want both", c.UsesSecretsManager(), c.UsesCognito())
	}
	c, err = load(t, map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "AUTH_MODE": "password", "IOS_SECRET_ID": "ios", "COGNITO_CLIENT_ID": "client"})
	if err != nil || c.CognitoClientSecret != (secrets.Ref{}) {
		t.Errorf("without COGNITO_CLIENT_SECRET_ID: %+v, %v; want the zero Ref", c.CognitoClientSecret, err)
	}
}

func TestLoadAWS(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want config.AWS
	}{
		{name: "nothing set", env: map[string]string{}, want: config.AWS{}},
		{
			name: "what Lambda sets",
			env: map[string]string{
				"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
				"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "role-secret", "AWS_SESSION_TOKEN": "role-token",
			},
			want: config.AWS{Region: "eu-west-1", AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "role-secret", SessionToken: "role-token"},
		},
		{name: "AWS_DEFAULT_REGION without AWS_REGION", env: map[string]string{"AWS_DEFAULT_REGION": "ap-south-1"}, want: config.AWS{Region: "ap-south-1"}},
		{name: "AWS_REGION over AWS_DEFAULT_REGION", env: map[string]string{"AWS_REGION": "eu-west-3", "AWS_DEFAULT_REGION": "ap-south-1"}, want: config.AWS{Region: "eu-west-3"}},
		{
			name: "AWS_ENDPOINT_URL for every service",
			env:  map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"},
			want: config.AWS{SecretsManagerEndpoint: "http://127.0.0.1:5000", CognitoEndpoint: "http://127.0.0.1:5000"},
		},
		{
			name: "a service's own endpoint over AWS_ENDPOINT_URL",
			env: map[string]string{
				"AWS_ENDPOINT_URL":                           "http://127.0.0.1:5000",
				"AWS_ENDPOINT_URL_SECRETS_MANAGER":           "http://127.0.0.1:5001",
				"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": "https://cognito.example",
			},
			want: config.AWS{SecretsManagerEndpoint: "http://127.0.0.1:5001", CognitoEndpoint: "https://cognito.example"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := config.LoadAWS(lookup(tt.env))
			if err != nil || got != tt.want {
				t.Errorf("LoadAWS() = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	for _, name := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"} {
		_, err := config.LoadAWS(lookup(map[string]string{name: "localhost:4566"}))
		if err == nil || !strings.HasPrefix(err.Error(), name+": ") {
			t.Errorf("%s=localhost:4566: err = %v, want a refusal naming %s", name, err, name)
		}
	}
	// Load reads them too, for the wiring.
	c, err := load(t, map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "IOS_SECRET_ID": "ios", "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "ftp://x"})
	if err == nil || !strings.HasPrefix(err.Error(), "AWS_ENDPOINT_URL: ") {
		t.Errorf("Load with a bad AWS_ENDPOINT_URL: %+v, %v; want a refusal naming it", c.AWS, err)
	}
}

func TestVariables(t *testing.T) {
	got := config.Variables()
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("Variables() = %v, want sorted names, each once", got)
	}
	// Spot checks, one per path of Load: a variable of every mode and place.
	for _, name := range []string{
		"AUTH_MODE", "IOS_SECRET_ID", "WEB_SECRET", "COGNITO_CLIENT_SECRET_ID", "USERS_FILE",
		"JWT_AUDIENCE", "AWS_LAMBDA_LOG_LEVEL", "AWS_LAMBDA_RUNTIME_API", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
	} {
		if !slices.Contains(got, name) {
			t.Errorf("Variables() has no %s: %v", name, got)
		}
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
			c, err := load(t, env)
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
			c, err := load(t, tt.env)
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
	c, err := load(t, map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x", "USER_JWT_ATTRIBUTES": "name=name, plan=custom:plan"})
	if err != nil {
		t.Fatal(err)
	}
	want := []auth.Attribute{{Name: "name", Claim: "name"}, {Name: "plan", Claim: "custom:plan"}}
	if !slices.Equal(c.Claims.Attributes, want) {
		t.Errorf("Attributes = %v, want %v", c.Claims.Attributes, want)
	}
	c, err = load(t, map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x"})
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
			_, err := load(t, map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "s3cr3t-value", tt.variable: tt.value})
			if err == nil {
				t.Fatalf("%s=%q: Load() error = nil, want a refusal", tt.variable, tt.value)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, tt.variable+": ") || strings.Contains(msg, "\n") || strings.Contains(msg, "s3cr3t-value") {
				t.Errorf("error = %q, want one line starting with %s", msg, tt.variable)
			}
		})
	}
	_, err := load(t, map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x", "USER_JWT_TTL": "0", "USER_JWT_ATTRIBUTES": "name=name"})
	if err == nil || !strings.HasPrefix(err.Error(), "USER_JWT_ATTRIBUTES: ") {
		t.Errorf("attributes without a JWT: error = %v, want a refusal naming USER_JWT_ATTRIBUTES", err)
	}
}

// TestPlatformSecrets checks each platform is served from where its
// variable says: a literal value as it is, a secret ID through the cache,
// and a platform with neither not at all.
func TestPlatformSecrets(t *testing.T) {
	c, err := config.Load(lookup(map[string]string{
		"AUTH_MODE": "password", "IOS_SECRET": "local-ios", "ANDROID_SECRET_ID": "prod/intercom#android", "AWS_REGION": "eu-west-1", "USERS_FILE": "u.json",
	}))
	if err != nil {
		t.Fatal(err)
	}
	src := c.PlatformSecrets(nil)
	if got := string(src.Static[platform.IOS]); got != "local-ios" {
		t.Errorf("iOS literal = %q, want local-ios", got)
	}
	if got := src.Refs[platform.Android]; got != (secrets.Ref{ID: "prod/intercom", Key: "android"}) {
		t.Errorf("Android ref = %+v, want prod/intercom#android", got)
	}
	if _, err := src.PlatformSecret(context.Background(), platform.Web); !errors.Is(err, secrets.ErrNotConfigured) {
		t.Errorf("web: error = %v, want ErrNotConfigured", err)
	}
}
