// diagnoseJWT: which secret signed a JWT, whether it has expired, and
// whether the app logs in with its claims; HS256 only.

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/signing"
)

// unitNow is the fake clock of the JWT tests.
var unitNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// hs256 signs claims with secret, independently of shared/signing.
func hs256(t *testing.T, secret string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDiagnoseJWT(t *testing.T) {
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{"user_id": "u-123", "email": "alice@example.com", "iat": unitNow.Unix(), "exp": unitNow.Add(time.Hour).Unix()}
	}
	with := func(k string, v any) jwt.MapClaims {
		c := valid()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	es256, err := jwt.NewWithClaims(jwt.SigningMethodES256, valid()).SignedString(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	fromSigning, _, err := signing.UserJWT([]byte(iosSecret), "u-123", "alice@example.com", unitNow.Add(-time.Minute), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	good := hs256(t, iosSecret, valid())
	tampered := good[:strings.LastIndex(good, ".")] + "." + strings.Repeat("A", 43)
	sentBoth := identity{userID: "u-123", email: "alice@example.com", userIDSent: true, emailSent: true}

	tests := []struct {
		name   string
		tok    string
		id     identity
		want   Cause
		detail []string
	}{
		{name: "valid, from the function's own signing code", tok: fromSigning, want: CauseMatch, detail: []string{"ios secret", `user_id "u-123"`, `email "alice@example.com"`, "exp 2026-11-25T12:59:00Z"}},
		{name: "valid, with what the app sent", tok: good, id: sentBoth, want: CauseMatch},
		{name: "expired", tok: hs256(t, iosSecret, with("exp", unitNow.Add(-2*time.Hour).Unix())), want: CauseJWTExpired, detail: []string{"expired 2h0m0s ago"}},
		{name: "expiring this second", tok: hs256(t, iosSecret, with("exp", unitNow.Unix())), want: CauseJWTExpired},
		{name: "another platform's secret", tok: hs256(t, webSecret, valid()), want: CauseWrongPlatformSecret, detail: []string{"web secret", "runs on ios"}},
		{name: "no configured secret", tok: hs256(t, "another-workspace-secret", valid()), want: CauseJWTBadSignature, detail: []string{"none of the configured secrets"}},
		{name: "signature altered", tok: tampered, want: CauseJWTBadSignature},
		{name: "not a JWT", tok: "not.a.jwt", want: CauseJWTBadSignature, detail: []string{"not a JWT"}},
		{name: "ES256, not HS256", tok: es256, want: CauseJWTBadSignature, detail: []string{"ES256"}},
		{name: "alg none", tok: "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + strings.Split(good, ".")[1] + ".", want: CauseJWTBadSignature},
		{name: "no user_id claim", tok: hs256(t, iosSecret, with("user_id", nil)), want: CauseJWTWithoutUserID, detail: []string{"must carry the user_id"}},
		{name: "the app logs in as another user", tok: good, id: identity{userID: "u-999", userIDSent: true}, want: CauseIdentifierMismatch, detail: []string{"another user_id"}},
		{name: "the app changed the email's case", tok: good, id: identity{email: "Alice@Example.com", emailSent: true}, want: CauseIdentifierChanged, detail: []string{"email", "case or white space"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := diagnoseJWT(platform.IOS, tt.id, tt.tok, unitKeys(), unitNow)
			if got.cause != tt.want {
				t.Errorf("cause = %s, want %s (detail %q)", got.cause, tt.want, got.detail)
			}
			for _, w := range tt.detail {
				if !strings.Contains(got.detail, w) {
					t.Errorf("detail %q does not say %q", got.detail, w)
				}
			}
			for _, s := range []string{tt.tok, strings.Split(tt.tok, ".")[len(strings.Split(tt.tok, "."))-1], iosSecret, androidSecret, webSecret} {
				if len(s) >= minMasked && strings.Contains(got.detail, s) {
					t.Errorf("detail %q holds the token, its signature or a secret", got.detail)
				}
			}
		})
	}
}

func TestDiagnoseJWTUnreadableSecret(t *testing.T) {
	keys := []*key{{platform: platform.IOS}, {platform: platform.Android, value: []byte(androidSecret)}}
	got := diagnoseJWT(platform.IOS, identity{}, hs256(t, iosSecret, jwt.MapClaims{"user_id": "u-1"}), keys, unitNow)
	if got.cause != CauseUndetermined {
		t.Errorf("cause = %s, want undetermined when the platform's own secret could not be read", got.cause)
	}
}
