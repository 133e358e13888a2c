package oidc_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/intercom-identity/userhash/internal/oidctest"
	"github.com/intercom-identity/userhash/shared/oidc"
)

const audience = "app-client-1"

// clock is a fake clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func setup(t *testing.T) (*oidctest.Issuer, *oidc.Verifier, *clock) {
	t.Helper()
	clk := newClock()
	iss := oidctest.New(t)
	iss.Now = clk.Now
	v, err := oidc.NewVerifier(iss.URL, audience, oidc.WithClock(clk.Now))
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return iss, v, clk
}

func TestVerify(t *testing.T) {
	iss, v, clk := setup(t)
	now := clk.Now()
	valid := func() map[string]any { return iss.Claims(audience, "user-1") }
	with := func(k string, val any) map[string]any {
		c := valid()
		if val == nil {
			delete(c, k)
		} else {
			c[k] = val
		}
		return c
	}
	unpublished := oidctest.NewKey(t, "RS256")

	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"valid RS256", iss.Sign(t, valid()), true},
		{"aud as an array containing the audience", iss.Sign(t, with("aud", []string{"other", audience})), true},
		{"aud matches and client_id is set too", iss.Sign(t, with("client_id", "other")), true},
		{"no aud, client_id is the audience (Cognito access token)", iss.Sign(t, func() map[string]any { c := with("aud", nil); c["client_id"] = audience; return c }()), true},
		{"no aud, client_id is another client", iss.Sign(t, func() map[string]any { c := with("aud", nil); c["client_id"] = "other"; return c }()), false},
		{"aud is another client even though client_id matches", iss.Sign(t, func() map[string]any { c := with("aud", "other"); c["client_id"] = audience; return c }()), false},
		{"neither aud nor client_id", iss.Sign(t, with("aud", nil)), false},
		{"wrong audience", iss.Sign(t, with("aud", "someone-else")), false},
		{"wrong issuer", iss.Sign(t, with("iss", "https://evil.example.com")), false},
		{"expired a second ago", iss.Sign(t, with("exp", now.Add(-time.Second).Unix())), false},
		{"no exp", iss.Sign(t, with("exp", nil)), false},
		{"nbf two minutes ahead", iss.Sign(t, with("nbf", now.Add(2*time.Minute).Unix())), false},
		{"nbf within the leeway", iss.Sign(t, with("nbf", now.Add(30*time.Second).Unix())), true},
		{"iat two minutes ahead", iss.Sign(t, with("iat", now.Add(2*time.Minute).Unix())), false},
		{"signed by a key the issuer does not publish", unpublished.Sign(t, valid()), false},
		{"alg none", iss.SignNone(t, valid()), false},
		{"HS256 keyed with the public key", iss.SignHS256WithPublicKey(t, valid()), false},
		{"not a JWT", "not-a-jwt", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := v.Verify(context.Background(), tt.token)
			if tt.ok {
				if err != nil {
					t.Fatalf("Verify: got error %v, want the token accepted", err)
				}
				if got := claims["sub"]; got != "user-1" {
					t.Errorf("claims[sub]: got %q, want %q", got, "user-1")
				}
				return
			}
			if !errors.Is(err, oidc.ErrInvalidToken) {
				t.Fatalf("Verify: got (%v, %v), want an error wrapping ErrInvalidToken", claims, err)
			}
			if claims != nil {
				t.Errorf("Verify returned claims %v with an error", claims)
			}
		})
	}
}

func TestVerifyExpiresWithTheClock(t *testing.T) {
	iss, v, clk := setup(t)
	tok := iss.Sign(t, iss.Claims(audience, "user-1")) // exp: now + 1h
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("fresh token: got %v, want accepted", err)
	}
	clk.Advance(time.Hour + time.Second)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, oidc.ErrInvalidToken) {
		t.Fatalf("after exp: got %v, want ErrInvalidToken", err)
	}
}

func TestVerifyReturnsClaimsAsTheGatewayDoes(t *testing.T) {
	iss, v, _ := setup(t)
	c := iss.Claims(audience, "user-1")
	c["email"] = "a@example.com"
	c["custom:intercom_id"] = "u-123"
	c["cognito:groups"] = []string{"admin", "staff"}
	c["email_verified"] = true
	c["account"] = 12345678901234567
	c["nothing"] = nil
	claims, err := v.Verify(context.Background(), iss.Sign(t, c))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := map[string]string{
		"iss":                iss.URL,
		"aud":                audience,
		"sub":                "user-1",
		"email":              "a@example.com",
		"custom:intercom_id": "u-123",
		"cognito:groups":     "[admin staff]",
		"email_verified":     "true",
		"account":            "12345678901234567",
	}
	for k, w := range want {
		if got := claims[k]; got != w {
			t.Errorf("claims[%q]: got %q, want %q", k, got, w)
		}
	}
	if _, ok := claims["nothing"]; ok {
		t.Errorf("claims[nothing]: a null claim should be absent")
	}
}

func TestKeyRotation(t *testing.T) {
	iss, v, _ := setup(t)
	ctx := context.Background()
	if _, err := v.Verify(ctx, iss.Sign(t, iss.Claims(audience, "u"))); err != nil {
		t.Fatalf("first key: %v", err)
	}
	if got := iss.JWKSFetches(); got != 1 {
		t.Fatalf("JWKS fetches after the first token: got %d, want 1", got)
	}
	if _, err := v.Verify(ctx, iss.Sign(t, iss.Claims(audience, "u"))); err != nil {
		t.Fatalf("first key again: %v", err)
	}
	if got := iss.JWKSFetches(); got != 1 {
		t.Fatalf("JWKS fetches for a known key: got %d, want 1 (keys are cached)", got)
	}

	// The issuer rotates to a new key, of the other algorithm; a token
	// naming it makes the verifier fetch the JWKS again.
	next := oidctest.NewKey(t, "ES256")
	iss.Publish(next)
	iss.SignWith(next)
	if _, err := v.Verify(ctx, iss.Sign(t, iss.Claims(audience, "u"))); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if got := iss.JWKSFetches(); got != 2 {
		t.Fatalf("JWKS fetches after the rotation: got %d, want 2", got)
	}
	if _, err := v.Verify(ctx, iss.Sign(t, iss.Claims(audience, "u"))); err != nil {
		t.Fatalf("rotated key again: %v", err)
	}
	if got := iss.JWKSFetches(); got != 2 {
		t.Fatalf("JWKS fetches for the rotated key once known: got %d, want 2", got)
	}
}

func TestIssuerNotUpAtStart(t *testing.T) {
	iss, v, clk := setup(t)
	iss.SetDown(true)
	ctx := context.Background()
	if err := v.Discover(ctx); !errors.Is(err, oidc.ErrIssuerUnavailable) {
		t.Fatalf("Discover with the issuer down: got %v, want ErrIssuerUnavailable", err)
	}
	iss.SetDown(false)
	tok := iss.Sign(t, iss.Claims(audience, "u"))

	// Within the retry interval the verifier fails fast, without asking.
	if _, err := v.Verify(ctx, tok); !errors.Is(err, oidc.ErrIssuerUnavailable) {
		t.Fatalf("Verify right after a failed discovery: got %v, want ErrIssuerUnavailable", err)
	}
	if got := iss.Discoveries(); got != 1 {
		t.Fatalf("discovery requests within the retry interval: got %d, want 1", got)
	}

	clk.Advance(11 * time.Second)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("Verify once the issuer is up: %v", err)
	}
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("Verify again: %v", err)
	}
	if got := iss.Discoveries(); got != 2 {
		t.Fatalf("discovery requests: got %d, want 2 (one failed, one kept)", got)
	}
}

func TestNewVerifierRefusesBadConfig(t *testing.T) {
	tests := []struct{ name, issuer, audience string }{
		{"issuer not a URL", "cognito", audience},
		{"issuer with another scheme", "ftp://issuer.example.com", audience},
		{"empty audience", "https://issuer.example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := oidc.NewVerifier(tt.issuer, tt.audience); err == nil {
				t.Fatalf("NewVerifier(%q, %q): got no error", tt.issuer, tt.audience)
			}
		})
	}
}

// BenchmarkVerify is the cost of one bearer token once the keys are
// cached: what jwt mode adds to a local request.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg, func(b *testing.B) {
			iss := oidctest.New(b)
			k := oidctest.NewKey(b, alg)
			iss.Publish(k)
			iss.SignWith(k)
			v, err := oidc.NewVerifier(iss.URL, audience)
			if err != nil {
				b.Fatal(err)
			}
			tok := iss.Sign(b, iss.Claims(audience, "user-1"))
			ctx := context.Background()
			if _, err := v.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
