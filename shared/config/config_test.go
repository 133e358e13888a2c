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

	"github.com/intercom-identity/userhash/internal/envvars"
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
// is one envvars.UserHash lists: these tests take Load down each of its
// paths, so a variable read on a path that UserHash does not reach fails
// here, whichever test reaches it.
func load(t *testing.T, env map[string]string) (config.Config, error) {
	t.Helper()
	var asked []string
	c, err := config.Load(func(name string) (string, bool) {
		asked = append(asked, name)
		return lookup(env)(name)
	})
	listed := envvars.UserHash()
	for _, name := range asked {
		if !slices.Contains(listed, name) {
			t.Errorf("Load read %s, which envvars.UserHash does not list: add a configuration that reaches it to envvars.Configurations", name)
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
	if got := c.Served(); len(got) != 1 || got[0] != "android" {
		t.Errorf("Served() = %v, want [android]", got)
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
	if ios := c.SecretIDs["ios"]; ios != "arn:aws:secretsmanager:us-east-1:123456789012:secret:intercom-AbCdEf#ios" {
		t.Errorf("IOS_SECRET_ID = %q", ios)
	}
	if web := c.SecretIDs["web"]; web != "intercom/web" {
		t.Errorf("WEB_SECRET_ID = %q", web)
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
		{name: "edge origin secret on the local server", env: with("EDGE_ORIGIN_SECRET_ID", "edge/origin"), variable: "EDGE_ORIGIN_SECRET_ID"},
		{name: "edge origin secret with an empty key", env: map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "IOS_SECRET_ID": "ios", "EDGE_ORIGIN_SECRET_ID": "edge/origin#"}, variable: "EDGE_ORIGIN_SECRET_ID"},
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
	if want := "cognito/app#client_secret"; c.CognitoClientSecretID != want {
		t.Errorf("CognitoClientSecretID = %q, want %q", c.CognitoClientSecretID, want)
	}
	if !c.UsesSecretsManager() || !c.UsesCognito() {
		t.Errorf("UsesSecretsManager() = %v, UsesCognito() = %v; want both", c.UsesSecretsManager(), c.UsesCognito())
	}
	c, err = load(t, map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "AUTH_MODE": "password", "IOS_SECRET_ID": "ios", "COGNITO_CLIENT_ID": "client"})
	if err != nil || c.CognitoClientSecretID != "" {
		t.Errorf("without COGNITO_CLIENT_SECRET_ID: %q, %v; want none", c.CognitoClientSecretID, err)
	}
}

// TestEdgeOriginSecret: EDGE_ORIGIN_SECRET_ID, the template's generated
// secret's ARN when the stack has a CloudFront edge, is read as given in
// Lambda and puts Secrets Manager to use; unset, there is no edge.
func TestEdgeOriginSecret(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:EdgeOriginSecret-AbC123"
	c, err := load(t, map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "IOS_SECRET_ID": "ios", "EDGE_ORIGIN_SECRET_ID": arn})
	if err != nil {
		t.Fatal(err)
	}
	if c.EdgeOriginSecretID != arn || !c.UsesSecretsManager() {
		t.Errorf("EdgeOriginSecretID = %q, UsesSecretsManager() = %v; want %q, true", c.EdgeOriginSecretID, c.UsesSecretsManager(), arn)
	}
	c, err = load(t, map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "IOS_SECRET_ID": "ios", "EDGE_ORIGIN_SECRET_ID": ""})
	if err != nil || c.EdgeOriginSecretID != "" {
		t.Errorf("EDGE_ORIGIN_SECRET_ID empty: %q, %v; want no edge", c.EdgeOriginSecretID, err)
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
			m, err := claims(t, env)
			if err != nil {
				t.Fatal(err)
			}
			if m.EmailVerified != tt.wantClaim || m.IssuerVerifiesEmails != tt.wantTrusted {
				t.Errorf("Claims = %+v, want EmailVerified %q, IssuerVerifiesEmails %v", m, tt.wantClaim, tt.wantTrusted)
			}
			// The rule, end to end: an unverified email is unknown unless
			// the issuer is trusted with its emails.
			id := m.Identity(map[string]string{"sub": "u", "email": "e@x", "email_verified": "false"})
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

// claims loads env and builds the claim mapping from it, as main does.
func claims(t *testing.T, env map[string]string) (auth.ClaimMapping, error) {
	t.Helper()
	c, err := load(t, env)
	if err != nil {
		return auth.ClaimMapping{}, err
	}
	return auth.NewClaimMapping(c.Claims.UserID, c.Claims.Email, c.Claims.EmailVerified, c.Claims.IssuerVerifiesEmails, c.Claims.Attributes)
}

func TestLoadUserJWTAttributes(t *testing.T) {
	m, err := claims(t, map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x", "USER_JWT_ATTRIBUTES": "name=name, plan=custom:plan"})
	if err != nil {
		t.Fatal(err)
	}
	want := []auth.Attribute{{Name: "name", Claim: "name"}, {Name: "plan", Claim: "custom:plan"}}
	if !slices.Equal(m.Attributes, want) {
		t.Errorf("Attributes = %v, want %v", m.Attributes, want)
	}
	m, err = claims(t, map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x"})
	if err != nil || m.Attributes != nil {
		t.Errorf("unset: Attributes = %v, %v; want none", m.Attributes, err)
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
			_, err := claims(t, map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "s3cr3t-value", tt.variable: tt.value})
			if err == nil {
				t.Fatalf("%s=%q: error = nil, want a refusal", tt.variable, tt.value)
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
	src := secrets.NewPlatforms(nil, c.SecretIDs, c.SecretLiterals)
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

// TestPlatformsArePlatformAll holds config's list of platforms, which names
// the variables, to the platforms the product serves.
func TestPlatformsArePlatformAll(t *testing.T) {
	var want []string
	for _, p := range platform.All() {
		want = append(want, p.String())
		if !slices.Contains(config.Platforms, strings.ToLower(p.EnvPrefix())) {
			t.Errorf("%s_SECRET_ID: config reads no such variable", p.EnvPrefix())
		}
	}
	if !slices.Equal(config.Platforms, want) {
		t.Errorf("config.Platforms = %v, want %v", config.Platforms, want)
	}
	if m := auth.DefaultClaimMapping(); m.EmailVerified != "email_verified" {
		t.Errorf("auth's default email_verified claim is %q, config's email_verified", m.EmailVerified)
	}
}

func TestParseSecretID(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		id, key string
		wantErr bool
	}{
		{name: "name", in: "prod/intercom", id: "prod/intercom"},
		{name: "name and key", in: "prod/intercom#ios", id: "prod/intercom", key: "ios"},
		{name: "ARN and key", in: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/intercom-AbCdEf#web",
			id: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/intercom-AbCdEf", key: "web"},
		{name: "key may hold '#'", in: "s#a#b", id: "s", key: "a#b"},
		{name: "empty", in: "", wantErr: true},
		{name: "empty ID", in: "#ios", wantErr: true},
		{name: "empty key", in: "s#", wantErr: true},
		{name: "white space", in: "prod intercom", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, key, err := config.ParseSecretID(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseSecretID(%q) error = %v, want error: %v", tt.in, err, tt.wantErr)
			}
			if id != tt.id || key != tt.key {
				t.Errorf("ParseSecretID(%q) = %q, %q; want %q, %q", tt.in, id, key, tt.id, tt.key)
			}
			// secrets.RefOf reads what ParseSecretID accepts the same way.
			if ref := secrets.RefOf(tt.in); !tt.wantErr && (ref.ID != id || ref.Key != key || ref.String() != tt.in) {
				t.Errorf("secrets.RefOf(%q) = %+v, String %q", tt.in, ref, ref.String())
			}
		})
	}
}
