// Only a proven identity is signed, end to end: the built command in jwt
// mode verifies tokens from a test OIDC issuer itself, so email_verified
// arrives here as the issuer wrote it, a JSON boolean or a string, and
// goes through the same flattening as API Gateway's. The answer's body,
// hash and JWT payload must never carry an unverified email, and the
// signed attributes of USER_JWT_ATTRIBUTES must be the token's.

package main_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/intercom-identity/userhash/internal/oidctest"
)

func TestJWTModeOnlyVerifiedEmails(t *testing.T) {
	const (
		aud    = "mobile-app"
		secret = "verified-ios-secret"
		victim = "victim@example.com"
	)
	iss := oidctest.New(t)
	env := map[string]string{
		"JWT_ISSUER": iss.URL, "JWT_AUDIENCE": aud, "IOS_SECRET": secret,
		"USER_JWT_ATTRIBUTES": "name=name,plan=custom:plan,contact=email",
	}
	s := start(t, env)
	// absent leaves email_verified out of the token.
	type absentT struct{}
	absent := absentT{}
	token := func(sub string, verified any, extra map[string]any) string {
		c := iss.Claims(aud, sub)
		if sub == "" {
			delete(c, "sub")
		}
		c["email"] = victim
		if verified != absent {
			c["email_verified"] = verified
		}
		for k, v := range extra {
			c[k] = v
		}
		return iss.Sign(t, c)
	}
	tests := []struct {
		name     string
		sub      string
		verified any
		extra    map[string]any
		status   int
		email    bool              // whether the email counts
		attrs    map[string]string // the JWT's signed attributes
	}{
		{name: "JSON true, with sub", sub: "u-1", verified: true, status: 200, email: true, attrs: map[string]string{"contact": victim}},
		{name: "string true, with sub", sub: "u-1", verified: "true", status: 200, email: true, attrs: map[string]string{"contact": victim}},
		{name: "JSON true, no sub", verified: true, status: 200, email: true},
		{name: "JSON false, with sub", sub: "u-1", verified: false, status: 200},
		{name: "string false, with sub", sub: "u-1", verified: "false", status: 200},
		{name: "missing, with sub", sub: "u-1", verified: absent, status: 200},
		{name: "JSON false, no sub", verified: false, status: 403},
		{name: "string false, no sub", verified: "false", status: 403},
		{name: "missing, no sub", verified: absent, status: 403},
		{name: "string True, no sub", verified: "True", status: 403},
		{name: "number 1, no sub", verified: 1, status: 403},
		{name: "array [true], no sub", verified: []any{true}, status: 403},
		{name: "null, no sub", verified: nil, status: 403},
		{
			name: "attributes from the token, verified", sub: "u-1", verified: true, extra: map[string]any{"name": "Zoë", "custom:plan": "enterprise"},
			status: 200, email: true, attrs: map[string]string{"name": "Zoë", "plan": "enterprise", "contact": victim},
		},
		{
			name: "attributes from the token, unverified: contact goes with the email", sub: "u-1", verified: false, extra: map[string]any{"name": "Zoë", "custom:plan": "enterprise"},
			status: 200, attrs: map[string]string{"name": "Zoë", "plan": "enterprise"},
		},
		{name: "an attribute claim that is not a string", sub: "u-1", verified: false, extra: map[string]any{"custom:plan": 3}, status: 200, attrs: map[string]string{"plan": "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := token(tt.sub, tt.verified, tt.extra)
			status, _, body := s.Post(t, `{"platform":"ios"}`, "Authorization", "Bearer "+tok)
			if status != tt.status {
				t.Fatalf("got %d %s, want %d", status, body, tt.status)
			}
			if status == http.StatusForbidden {
				var p problem
				if _ = json.Unmarshal(body, &p); p.Code != "unidentified_user" || strings.Contains(string(body), victim) {
					t.Fatalf("got %s, want unidentified_user without the email", body)
				}
				return
			}
			var got success
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			wantEmail, hashOver := "", tt.sub
			if tt.email {
				wantEmail = victim
			}
			if hashOver == "" {
				hashOver = wantEmail
			}
			if got.UserID != tt.sub || got.Email != wantEmail || got.UserHash != independentHash(secret, hashOver) {
				t.Fatalf("got %+v, want user_id %q email %q, hash over %q", got, tt.sub, wantEmail, hashOver)
			}
			if !tt.email && strings.Contains(string(body[:len(body)-len(got.UserJWT)]), victim) {
				t.Errorf("the body names the unverified email: %s", body)
			}
			if tt.sub == "" {
				return
			}
			claims := jwt.MapClaims{}
			if _, err := jwt.ParseWithClaims(got.UserJWT, claims, func(*jwt.Token) (any, error) { return []byte(secret), nil },
				jwt.WithValidMethods([]string{"HS256"})); err != nil {
				t.Fatalf("user_jwt does not verify: %v", err)
			}
			want := map[string]any{"user_id": tt.sub, "iat": claims["iat"], "exp": claims["exp"]}
			if tt.email {
				want["email"] = victim
			}
			for k, v := range tt.attrs {
				want[k] = v
			}
			if !reflect.DeepEqual(map[string]any(claims), want) {
				t.Errorf("user_jwt payload = %v, want %v", claims, want)
			}
			if payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(got.UserJWT, ".")[1]); !tt.email && strings.Contains(string(payload), victim) {
				t.Errorf("the JWT payload carries the unverified email: %s", payload)
			}
		})
	}
	for _, leaked := range []string{victim, "Zoë", "enterprise"} {
		if strings.Contains(s.Log(), leaked) {
			t.Errorf("the log contains %q", leaked)
		}
	}
}

// TestIssuerTrustedWithItsEmails: EMAIL_VERIFIED_CLAIM set to "" says the
// issuer only ever issues verified emails, so a token without
// email_verified gets the email hashed.
func TestIssuerTrustedWithItsEmails(t *testing.T) {
	const aud, secret = "mobile-app", "trusted-ios-secret"
	iss := oidctest.New(t)
	s := start(t, map[string]string{"JWT_ISSUER": iss.URL, "JWT_AUDIENCE": aud, "IOS_SECRET": secret, "EMAIL_VERIFIED_CLAIM": ""})
	c := iss.Claims(aud, "")
	delete(c, "sub")
	c["email"] = "employee@example.com"
	status, _, body := s.Post(t, `{"platform":"ios"}`, "Authorization", "Bearer "+iss.Sign(t, c))
	var got success
	if err := json.Unmarshal(body, &got); status != 200 || err != nil || got.Email != "employee@example.com" || got.UserHash != independentHash(secret, "employee@example.com") {
		t.Fatalf("got %d %s, want 200 with the email hashed", status, body)
	}
}

// TestBadClaimSettingsStopTheStart: a reserved or malformed
// USER_JWT_ATTRIBUTES stops the start with one line naming it.
func TestBadClaimSettingsStopTheStart(t *testing.T) {
	for _, v := range []string{"user_id=custom:id", "email=email", "name", "plan=custom:plan,plan=custom:tier"} {
		_, err := tryStart(t, map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x", "USER_JWT_ATTRIBUTES": v})
		if err == nil || !strings.Contains(err.Error(), "userhash: USER_JWT_ATTRIBUTES: ") {
			t.Errorf("USER_JWT_ATTRIBUTES=%q: start error %v, want one line naming USER_JWT_ATTRIBUTES", v, err)
		}
	}
}
