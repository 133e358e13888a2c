// Only a proven identity is signed (README, "Which claims are proof"): the
// handler's answers to tokens whose email is verified, unverified or silent
// about it, and the signed JWT attributes, checked in the body, the hash
// and the JWT's payload.

package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/httpapi"
)

// TestOnlyVerifiedEmailsCount sends email_verified in every form it
// arrives in. API Gateway (and the local server's verifier, and a Cognito
// ID token read through auth.ClaimStrings) turn JSON true into the string
// "true", so a JSON boolean and a string reach the handler the same way;
// the JSON forms are checked end to end in functions/userhash and
// shared/cognito.
func TestOnlyVerifiedEmailsCount(t *testing.T) {
	const victim = "victim@example.com"
	custom := auth.ClaimMapping{UserID: "custom:intercom_id", Email: "email", EmailVerified: "email_verified"}
	trusting := auth.ClaimMapping{UserID: "sub", Email: "email", IssuerVerifiesEmails: true}
	tests := []struct {
		name     string
		mapping  auth.ClaimMapping
		verified string // the email_verified claim; "-" for none
		userID   bool   // whether the token has a user_id claim
		status   int
		email    bool // whether the email counts
	}{
		{name: "verified string, with user_id", verified: "true", userID: true, status: 200, email: true},
		{name: "verified string, no user_id", verified: "true", status: 200, email: true},
		{name: "unverified string, with user_id", verified: "false", userID: true, status: 200},
		{name: "unverified string, no user_id", verified: "false", status: 403},
		{name: "missing, with user_id", verified: "-", userID: true, status: 200},
		{name: "missing, no user_id", verified: "-", status: 403},
		{name: "empty, no user_id", verified: "", status: 403},
		{name: "True, no user_id", verified: "True", status: 403},
		{name: "TRUE, with user_id", verified: "TRUE", userID: true, status: 200},
		{name: "1, no user_id", verified: "1", status: 403},
		{name: "yes, no user_id", verified: "yes", status: 403},
		{name: "array, no user_id", verified: "[true]", status: 403},
		// Issue 9's first attack, as it was written.
		{name: "custom user_id claim absent, unverified email", mapping: custom, verified: "false", status: 403},
		{name: "custom user_id claim, unverified email", mapping: custom, verified: "false", userID: true, status: 200},
		{name: "issuer trusted with its emails: missing", mapping: trusting, verified: "-", status: 200, email: true},
		{name: "issuer trusted with its emails: false", mapping: trusting, verified: "false", userID: true, status: 200, email: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.mapping
			if m.UserID == "" {
				m = auth.DefaultClaimMapping()
			}
			claims := map[string]string{"email": victim}
			if tt.verified != "-" {
				claims["email_verified"] = tt.verified
			}
			// sub is always there, as in every Cognito token; it is the
			// user_id only where the mapping says so.
			claims["sub"] = "s-1"
			if !tt.userID && m.UserID == "sub" {
				delete(claims, "sub")
			}
			if tt.userID && m.UserID != "sub" {
				claims[m.UserID] = "ic-1"
			}
			resp := must(newHandler(nil, httpapi.WithClaims(m)).Handle(context.Background(), jwtEvent(`{"platform":"ios"}`, claims)))
			if tt.status == 403 {
				p := checkProblem(t, resp, 403, "unidentified_user")
				if strings.Contains(resp.Body, victim) {
					t.Errorf("the problem %q names the email", p.Detail)
				}
				return
			}
			got := decodeSuccess(t, resp)
			userID := claims[m.UserID]
			wantEmail := ""
			if tt.email {
				wantEmail = victim
			}
			hashOver := userID
			if hashOver == "" {
				hashOver = wantEmail
			}
			if got.UserID != userID || got.Email != wantEmail || got.UserHash != hmacHex("ios-test-secret", hashOver) {
				t.Errorf("got %+v, want user_id %q, email %q, hash over %q", got, userID, wantEmail, hashOver)
			}
			if !tt.email && strings.Contains(resp.Body, "victim") {
				t.Errorf("the body carries the unverified email: %s", resp.Body)
			}
			if userID == "" {
				if got.UserJWT != "" {
					t.Errorf("a JWT without a user_id")
				}
				return
			}
			checkJWT(t, got.UserJWT, "ios-test-secret", userID, wantEmail, nil)
			if _, ok := jwtPayload(t, got.UserJWT)["email"]; ok != tt.email {
				t.Errorf("user_jwt has an email = %v, want %v", ok, tt.email)
			}
		})
	}
}

// TestSignedAttributes checks USER_JWT_ATTRIBUTES: the configured claims
// go into the JWT, absent ones are left out, an attribute read from an
// unverified email is left out with it, and the body and the hash are the
// same as without attributes.
func TestSignedAttributes(t *testing.T) {
	attrs, err := auth.ParseAttributes("name=name,plan=custom:plan,contact=email")
	if err != nil {
		t.Fatal(err)
	}
	with := auth.DefaultClaimMapping()
	with.Attributes = attrs
	tests := []struct {
		name   string
		claims map[string]string
		want   map[string]string
	}{
		{
			name:   "all present",
			claims: map[string]string{"sub": "u-1", "email": "a@example.com", "email_verified": "true", "name": "Alice", "custom:plan": "enterprise"},
			want:   map[string]string{"name": "Alice", "plan": "enterprise", "contact": "a@example.com"},
		},
		{
			name:   "plan absent",
			claims: map[string]string{"sub": "u-1", "email": "a@example.com", "email_verified": "true", "name": "Alice"},
			want:   map[string]string{"name": "Alice", "contact": "a@example.com"},
		},
		{
			name:   "email unverified: contact left out too",
			claims: map[string]string{"sub": "u-1", "email": "victim@example.com", "email_verified": "false", "name": "Alice", "custom:plan": "pro"},
			want:   map[string]string{"name": "Alice", "plan": "pro"},
		},
		{
			name:   "none present",
			claims: map[string]string{"sub": "u-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := jwtEvent(`{"platform":"android"}`, tt.claims)
			signed := decodeSuccess(t, must(newHandler(nil, httpapi.WithClaims(with)).Handle(context.Background(), ev)))
			plain := decodeSuccess(t, must(newHandler(nil).Handle(context.Background(), ev)))
			checkJWT(t, signed.UserJWT, "android-test-secret", "u-1", plain.Email, tt.want)
			signed.UserJWT, plain.UserJWT = "", ""
			if signed != plain {
				t.Errorf("body with attributes %+v differs from without %+v beyond the JWT", signed, plain)
			}
		})
	}

	// Attributes come from the verified claims only, never from the body.
	ev := jwtEvent(`{"platform":"ios","name":"Mallory"}`, map[string]string{"sub": "u-1", "name": "Alice"})
	checkProblem(t, must(newHandler(nil, httpapi.WithClaims(with)).Handle(context.Background(), ev)), 400, "invalid_request")
}

// TestPasswordModeSignsTheCheckersAttributes: in password mode the
// identity, attributes included, is what the PasswordChecker returns (the
// Cognito sign-in maps the ID token with the same ClaimMapping).
func TestPasswordModeSignsTheCheckersAttributes(t *testing.T) {
	checker := fakePasswords{signIn: func(context.Context, string, string) (auth.Identity, error) {
		return auth.Identity{UserID: "u-9", Attributes: map[string]string{"plan": "pro"}}, nil
	}}
	body, _ := json.Marshal(map[string]string{"username": "u", "password": "p", "platform": "ios"})
	got := decodeSuccess(t, must(newHandler(nil, httpapi.WithPasswords(checker)).Handle(context.Background(), jwtEvent(string(body), nil))))
	checkJWT(t, got.UserJWT, "ios-test-secret", "u-9", "", map[string]string{"plan": "pro"})
	if got.Email != "" || strings.Contains(got.UserHash, "pro") {
		t.Errorf("got %+v", got)
	}
}
