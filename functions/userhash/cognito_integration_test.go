// Real sign-in end to end (issue #4): the built command in password mode
// against moto_server's Cognito user pool and Secrets Manager, and in jwt
// mode against a test OIDC issuer.

package main_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/internal/oidctest"
	"github.com/intercom-identity/userhash/shared/oidc"
)

const iosSecret = "moto-ios-secret"

// motoPool is a user pool in moto with an app client that has a secret and
// allows USER_PASSWORD_AUTH, and users whose Intercom user_id is the custom
// attribute intercom_id.
type motoPool struct {
	motoURL      string
	clientID     string
	clientSecret string
}

func setupMotoPool(t *testing.T) motoPool {
	t.Helper()
	motoURL := awsfake.StartMoto(t)
	ctx := context.Background()
	cfg := awsfake.Config()
	idp := cip.NewFromConfig(cfg, func(o *cip.Options) { o.BaseEndpoint = aws.String(motoURL) })
	sm := secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(motoURL) })

	pool, err := idp.CreateUserPool(ctx, &cip.CreateUserPoolInput{
		PoolName: aws.String("intercom-users"),
		Schema: []ciptypes.SchemaAttributeType{{
			Name: aws.String("intercom_id"), AttributeDataType: ciptypes.AttributeDataTypeString, Mutable: aws.Bool(true),
		}},
	})
	if err != nil {
		t.Fatalf("CreateUserPool: %v", err)
	}
	poolID := pool.UserPool.Id
	client, err := idp.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId:        poolID,
		ClientName:        aws.String("mobile-app"),
		GenerateSecret:    true,
		ExplicitAuthFlows: []ciptypes.ExplicitAuthFlowsType{ciptypes.ExplicitAuthFlowsTypeAllowUserPasswordAuth, ciptypes.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
		ReadAttributes:    []string{"email", "email_verified", "custom:intercom_id"},
	})
	if err != nil {
		t.Fatalf("CreateUserPoolClient: %v", err)
	}
	p := motoPool{motoURL: motoURL, clientID: *client.UserPoolClient.ClientId, clientSecret: aws.ToString(client.UserPoolClient.ClientSecret)}
	if p.clientSecret == "" {
		t.Fatal("moto created the app client without a secret")
	}

	users := []struct {
		username, password string
		attrs              map[string]string
		permanent          bool
	}{
		{"alice@example.com", "Correct-Horse-1", map[string]string{"email": "alice@example.com", "email_verified": "true", "custom:intercom_id": "u-123"}, true},
		{"bob", "Battery-Staple-2", map[string]string{"email": "bob@example.com", "email_verified": "true"}, true},
		// Unverified emails: dave's counts for nothing, erin's is dropped.
		{"dave", "Unverified-Mail-4", map[string]string{"email": "victim@example.com", "email_verified": "false"}, true},
		{"erin", "Unverified-Mail-5", map[string]string{"email": "victim@example.com", "custom:intercom_id": "u-erin-5"}, true},
		{"carol", "Temporary-Pass-3", map[string]string{"email": "carol@example.com", "custom:intercom_id": "u-789"}, false},
	}
	for _, u := range users {
		var attrs []ciptypes.AttributeType
		for k, v := range u.attrs {
			attrs = append(attrs, ciptypes.AttributeType{Name: aws.String(k), Value: aws.String(v)})
		}
		if _, err := idp.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
			UserPoolId: poolID, Username: aws.String(u.username), UserAttributes: attrs,
			TemporaryPassword: aws.String(u.password), MessageAction: ciptypes.MessageActionTypeSuppress,
		}); err != nil {
			t.Fatalf("AdminCreateUser %s: %v", u.username, err)
		}
		if u.permanent {
			if _, err := idp.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
				UserPoolId: poolID, Username: aws.String(u.username), Password: aws.String(u.password), Permanent: true,
			}); err != nil {
				t.Fatalf("AdminSetUserPassword %s: %v", u.username, err)
			}
		}
	}

	for name, value := range map[string]string{
		"intercom/ios":       iosSecret,
		"cognito/mobile-app": `{"client_secret":"` + p.clientSecret + `"}`,
		"cognito/wrong":      `{"client_secret":"not-the-client-secret"}`,
	} {
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}); err != nil {
			t.Fatalf("CreateSecret %s: %v", name, err)
		}
	}
	return p
}

// secretHashGate stands in front of moto's Cognito, which does not check
// SECRET_HASH: it refuses an InitiateAuth whose SECRET_HASH is missing or
// wrong, as Cognito does, and forwards the rest to moto unchanged.
type secretHashGate struct {
	clientID, clientSecret string

	mu     sync.Mutex
	hashes []string // SECRET_HASH of each InitiateAuth, "" when absent
}

func newSecretHashGate(t *testing.T, p motoPool) (*secretHashGate, string) {
	t.Helper()
	g := &secretHashGate{clientID: p.clientID, clientSecret: p.clientSecret}
	return g, awsfake.StartProxy(t, p.motoURL, g.inspect)
}

func (g *secretHashGate) inspect(op string, body []byte) *awsfake.Error {
	if op != "AWSCognitoIdentityProviderService.InitiateAuth" {
		return nil
	}
	var in struct{ AuthParameters map[string]string }
	_ = json.Unmarshal(body, &in)
	got := in.AuthParameters["SECRET_HASH"]
	g.mu.Lock()
	g.hashes = append(g.hashes, got)
	g.mu.Unlock()
	m := hmac.New(sha256.New, []byte(g.clientSecret))
	m.Write([]byte(in.AuthParameters["USERNAME"] + g.clientID))
	if want := base64.StdEncoding.EncodeToString(m.Sum(nil)); !hmac.Equal([]byte(got), []byte(want)) {
		return &awsfake.Error{Status: http.StatusBadRequest, Type: "NotAuthorizedException", Message: "Unable to verify secret hash for client " + g.clientID}
	}
	return nil
}

func (g *secretHashGate) Hashes() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.hashes...)
}

// cognitoEnv is the environment of password mode in AWS, pointed at moto
// (Secrets Manager) and at the gate in front of moto (Cognito).
func cognitoEnv(p motoPool, cognitoURL, clientSecretID string) map[string]string {
	return map[string]string{
		"AUTH_MODE":                                  "password",
		"COGNITO_CLIENT_ID":                          p.clientID,
		"COGNITO_CLIENT_SECRET_ID":                   clientSecretID,
		"IOS_SECRET_ID":                              "intercom/ios",
		"USER_ID_CLAIM":                              "custom:intercom_id",
		"USER_JWT_TTL":                               "0",
		"AWS_REGION":                                 "us-east-1",
		"AWS_ACCESS_KEY_ID":                          "testing",
		"AWS_SECRET_ACCESS_KEY":                      "testing",
		"AWS_EC2_METADATA_DISABLED":                  "true",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER":           p.motoURL,
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": cognitoURL,
	}
}

func TestCognitoPasswordSignIn(t *testing.T) {
	p := setupMotoPool(t)
	gate, gateURL := newSecretHashGate(t, p)
	s := start(t, cognitoEnv(p, gateURL, "cognito/mobile-app#client_secret"))

	tests := []struct {
		name      string
		body      string
		status    int
		userID    string // success: the user_id hashed and returned
		email     string
		hashOf    string // success: the identifier the hash is over
		code      string // failure: the problem code
		challenge string // challenge_required: named in detail
	}{
		{name: "user_id from the custom attribute", body: `{"username":"alice@example.com","password":"Correct-Horse-1","platform":"iOS"}`,
			status: 200, userID: "u-123", email: "alice@example.com", hashOf: "u-123"},
		{name: "no user_id: the hash is over the email", body: `{"username":"bob","password":"Battery-Staple-2","platform":"ios"}`,
			status: 200, email: "bob@example.com", hashOf: "bob@example.com"},
		{name: "unverified email, no user_id: no hash", body: `{"username":"dave","password":"Unverified-Mail-4","platform":"ios"}`,
			status: 403, code: "unidentified_user"},
		{name: "no email_verified: the email is left out", body: `{"username":"erin","password":"Unverified-Mail-5","platform":"ios"}`,
			status: 200, userID: "u-erin-5", hashOf: "u-erin-5"},
		{name: "wrong password", body: `{"username":"alice@example.com","password":"Wrong-Horse-1","platform":"ios"}`,
			status: 401, code: "unauthenticated"},
		{name: "unknown user", body: `{"username":"mallory@example.com","password":"Correct-Horse-1","platform":"ios"}`,
			status: 401, code: "unauthenticated"},
		{name: "new password required", body: `{"username":"carol","password":"Temporary-Pass-3","platform":"ios"}`,
			status: 401, code: "challenge_required", challenge: "NEW_PASSWORD_REQUIRED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := s.Post(t, tt.body)
			if status != tt.status {
				t.Fatalf("status: got %d, want %d; body %s", status, tt.status, body)
			}
			if tt.status == 200 {
				var got success
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatal(err)
				}
				want := success{Platform: "ios", UserID: tt.userID, Email: tt.email, UserHash: independentHash(iosSecret, tt.hashOf)}
				if got != want {
					t.Errorf("body: got %+v, want %+v", got, want)
				}
				return
			}
			var got problem
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if got.Code != tt.code {
				t.Errorf("code: got %q, want %q; body %s", got.Code, tt.code, body)
			}
			if tt.challenge != "" && !regexp.MustCompile(tt.challenge).MatchString(got.Detail) {
				t.Errorf("detail: got %q, want it to name %s", got.Detail, tt.challenge)
			}
		})
	}

	t.Run("unknown user and wrong password look alike", func(t *testing.T) {
		_, _, wrong := s.Post(t, `{"username":"alice@example.com","password":"Wrong-Horse-1","platform":"ios"}`)
		_, _, unknown := s.Post(t, `{"username":"mallory@example.com","password":"Wrong-Horse-1","platform":"ios"}`)
		if !bytes.Equal(wrong, unknown) {
			t.Errorf("wrong password body %s\nunknown user body   %s\nwant byte-identical", wrong, unknown)
		}
	})

	t.Run("every call carried a SECRET_HASH", func(t *testing.T) {
		hashes := gate.Hashes()
		if len(hashes) == 0 {
			t.Fatal("no InitiateAuth reached Cognito")
		}
		for i, h := range hashes {
			if h == "" {
				t.Errorf("call %d had no SECRET_HASH", i)
			}
		}
	})

	t.Run("nothing secret or identifying in the log", func(t *testing.T) {
		log := s.Log()
		if n := strings.Count(log, `"msg":"request"`); n < len(tests) {
			t.Fatalf("the log has %d request lines, want at least %d: the check below would prove nothing", n, len(tests))
		}
		for _, leak := range []string{"Correct-Horse-1", "Wrong-Horse-1", "Temporary-Pass-3", "alice@example.com", "mallory@example.com", "bob@example.com", "u-123", iosSecret, p.clientSecret, independentHash(iosSecret, "u-123")} {
			if strings.Contains(log, leak) {
				t.Errorf("the log contains %q", leak)
			}
		}
	})
}

// TestCognitoWrongClientSecret proves the SECRET_HASH matters end to end:
// with the wrong client secret in Secrets Manager, Cognito refuses every
// sign-in, and that is the operator's error (500), not the user's (401).
func TestCognitoWrongClientSecret(t *testing.T) {
	p := setupMotoPool(t)
	_, gateURL := newSecretHashGate(t, p)
	s := start(t, cognitoEnv(p, gateURL, "cognito/wrong#client_secret"))
	status, _, body := s.Post(t, `{"username":"alice@example.com","password":"Correct-Horse-1","platform":"ios"}`)
	var got problem
	_ = json.Unmarshal(body, &got)
	if status != http.StatusInternalServerError || got.Code != "internal" {
		t.Fatalf("got %d %s, want 500 internal", status, body)
	}
}

// TestJWTModeLocalServer is jwt mode on the local server against a test
// OIDC issuer: exactly the issuer's valid tokens for the audience get a hash.
func TestJWTModeLocalServer(t *testing.T) {
	const aud = "mobile-app"
	iss := oidctest.New(t)
	started := time.Now() // before the server's first key set download
	s := start(t, map[string]string{
		"JWT_ISSUER":    iss.URL,
		"JWT_AUDIENCE":  aud,
		"IOS_SECRET":    iosSecret,
		"USER_JWT_TTL":  "0",
		"EMAIL_CLAIM":   "email",
		"USER_ID_CLAIM": "sub",
	})
	valid := func() map[string]any {
		c := iss.Claims(aud, "u-123")
		c["email"] = "alice@example.com"
		c["email_verified"] = true
		return c
	}
	with := func(k string, v any) map[string]any {
		c := valid()
		c[k] = v
		return c
	}
	now := time.Now()
	stranger := oidctest.NewKey(t, "RS256")
	rotated := oidctest.NewKey(t, "RS256")

	tests := []struct {
		name  string
		token func() string
		ok    bool
	}{
		{"valid", func() string { return iss.Sign(t, valid()) }, true},
		{"expired", func() string { return iss.Sign(t, with("exp", now.Add(-time.Minute).Unix())) }, false},
		{"wrong audience", func() string { return iss.Sign(t, with("aud", "another-app")) }, false},
		{"wrong issuer", func() string { return iss.Sign(t, with("iss", "https://issuer.example.com")) }, false},
		{"not yet valid", func() string { return iss.Sign(t, with("nbf", now.Add(time.Hour).Unix())) }, false},
		{"unknown key", func() string { return stranger.Sign(t, valid()) }, false},
		{"alg none", func() string { return iss.SignNone(t, valid()) }, false},
		{"HS256 keyed with the public key", func() string { return iss.SignHS256WithPublicKey(t, valid()) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := s.Post(t, `{"platform":"ios"}`, "Authorization", "Bearer "+tt.token())
			if !tt.ok {
				var got problem
				_ = json.Unmarshal(body, &got)
				if status != http.StatusUnauthorized || got.Code != "unauthenticated" {
					t.Fatalf("got %d %s, want 401 unauthenticated", status, body)
				}
				return
			}
			if status != http.StatusOK {
				t.Fatalf("got %d %s, want 200", status, body)
			}
			var got success
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			want := success{Platform: "ios", UserID: "u-123", Email: "alice@example.com", UserHash: independentHash(iosSecret, "u-123")}
			if got != want {
				t.Errorf("body: got %+v, want %+v", got, want)
			}
		})
	}

	// The issuer rotates its key. The server downloaded the key set at
	// start and downloads it again at most once per 30 s, so the new key
	// is not known yet (the fake clock of the oidc package's tests shows
	// it accepted at 30 s); the old key's tokens are still good.
	t.Run("a key published after the start", func(t *testing.T) {
		iss.Publish(rotated)
		iss.SignWith(rotated)
		fetches := iss.JWKSFetches()
		status, _, body := s.Post(t, `{"platform":"ios"}`, "Authorization", "Bearer "+iss.Sign(t, valid()))
		switch {
		case status == http.StatusUnauthorized:
			if iss.JWKSFetches() != fetches {
				t.Errorf("JWKS fetches went from %d to %d within 30 s of the last download", fetches, iss.JWKSFetches())
			}
		case time.Since(started) < oidc.KeyRefreshInterval:
			t.Errorf("got %d %s, want 401: the key set was downloaded less than 30 s ago", status, body)
		case status != http.StatusOK:
			t.Errorf("got %d %s, want 401 (or 200, 30 s after the start)", status, body)
		}
	})
}
