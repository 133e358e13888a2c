package oidc_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	// A key of the issuer's that the gateway cannot use: its JWT authorizer
	// verifies RSA signatures only.
	ec := oidctest.NewKey(t, "ES256")
	iss.Publish(ec)

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
		{"ES256, by a key the issuer publishes: the gateway takes RSA only", ec.Sign(t, valid()), false},
		{"no kid: the gateway needs one naming a key of the JWKS", iss.SignWithoutKeyID(t, valid()), false},
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

// TestKeyRotation follows an issuer through two key rotations on the fake
// clock: a key it newly publishes is accepted as soon as the last download
// of its key set is 30 s old, and not before, and costs one download.
func TestKeyRotation(t *testing.T) {
	iss, v, clk := setup(t)
	ctx := context.Background()
	next, third := oidctest.NewKey(t, "RS256"), oidctest.NewKey(t, "RS256")
	steps := []struct {
		name        string
		advance     time.Duration
		rotateTo    *oidctest.Key // published and signed with first, if set
		ok          bool
		wantFetches int
	}{
		{name: "first key", ok: true, wantFetches: 1},
		{name: "first key again: cached", ok: true, wantFetches: 1},
		{name: "a newly published key, right after the download: not yet", rotateTo: next, ok: false, wantFetches: 1},
		{name: "the new key just before 30 s: not yet, and no download", advance: oidc.KeyRefreshInterval - time.Nanosecond, ok: false, wantFetches: 1},
		{name: "the new key at 30 s: downloaded and accepted", advance: time.Nanosecond, ok: true, wantFetches: 2},
		{name: "the new key again: cached", ok: true, wantFetches: 2},
		{name: "a key published long after the last download: accepted at once", advance: 10 * time.Minute, rotateTo: third, ok: true, wantFetches: 3},
	}
	for _, st := range steps {
		clk.Advance(st.advance)
		if st.rotateTo != nil {
			iss.Publish(st.rotateTo)
			iss.SignWith(st.rotateTo)
		}
		_, err := v.Verify(ctx, iss.Sign(t, iss.Claims(audience, "u")))
		if st.ok && err != nil {
			t.Fatalf("%s: got %v, want the token accepted", st.name, err)
		}
		if !st.ok && !errors.Is(err, oidc.ErrInvalidToken) {
			t.Fatalf("%s: got %v, want ErrInvalidToken", st.name, err)
		}
		if got := iss.JWKSFetches(); got != st.wantFetches {
			t.Fatalf("%s: JWKS fetches = %d, want %d", st.name, got, st.wantFetches)
		}
	}
}

// TestKeySetDownloadsAtMostOncePerInterval sends bursts of bad tokens, each
// naming a key the verifier has not seen, 50 at a time and all at once:
// whatever arrives, the issuer's key set is downloaded at most once per
// 30 s, and the requests waiting on a download share it.
func TestKeySetDownloadsAtMostOncePerInterval(t *testing.T) {
	iss, v, clk := setup(t)
	ctx := context.Background()
	if _, err := v.Verify(ctx, iss.Sign(t, iss.Claims(audience, "u"))); err != nil {
		t.Fatal(err)
	}
	strangers := []*oidctest.Key{oidctest.NewKey(t, "RS256"), oidctest.NewKey(t, "RS256")}
	good := iss.Sign(t, iss.Claims(audience, "u"))
	parts := strings.Split(good, ".")
	// badToken i is a different lie each time: a key the issuer never
	// published, a made-up key ID on a real signature, a tampered one, or
	// no JWT at all.
	badToken := func(i int) string {
		switch i % 4 {
		case 0:
			c := iss.Claims(audience, "u")
			c["jti"] = i
			return strangers[i%2].Sign(t, c)
		case 1:
			h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"made-up-` + strconv.Itoa(i) + `"}`))
			return h + "." + parts[1] + "." + parts[2]
		case 2:
			return "not.a.jwt-" + strconv.Itoa(i)
		default:
			h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"` + strings.Repeat("k", i) + `"}`))
			return h + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 64))
		}
	}
	burst := func(round int) {
		t.Helper()
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() {
				if _, err := v.Verify(ctx, badToken(round*50+i)); !errors.Is(err, oidc.ErrInvalidToken) {
					t.Errorf("bad token %d: got %v, want ErrInvalidToken", i, err)
				}
			})
		}
		wg.Wait()
	}
	steps := []struct {
		name        string
		advance     time.Duration
		wantFetches int
	}{
		{name: "right after the first download", wantFetches: 1},
		{name: "29 s later", advance: 29 * time.Second, wantFetches: 1},
		{name: "30 s after the first download: one more", advance: time.Second, wantFetches: 2},
		{name: "at the same instant", wantFetches: 2},
		{name: "an hour later: one more", advance: time.Hour, wantFetches: 3},
	}
	for round, st := range steps {
		clk.Advance(st.advance)
		burst(round)
		if got := iss.JWKSFetches(); got != st.wantFetches {
			t.Fatalf("%s: 50 bad tokens made the JWKS fetches %d, want %d", st.name, got, st.wantFetches)
		}
	}
	// A good token still passes, from the cache.
	if _, err := v.Verify(ctx, iss.Sign(t, iss.Claims(audience, "u"))); err != nil || iss.JWKSFetches() != 3 {
		t.Fatalf("good token after the bursts: %v, fetches %d; want accepted from the cache", err, iss.JWKSFetches())
	}
}

// TestKeySetDownloadFailure: a failed download counts as one (the issuer
// is not asked again within 30 s) and keeps the keys already known.
func TestKeySetDownloadFailure(t *testing.T) {
	iss, v, clk := setup(t)
	ctx := context.Background()
	if _, err := v.Verify(ctx, iss.Sign(t, iss.Claims(audience, "u"))); err != nil {
		t.Fatal(err)
	}
	known := iss.Sign(t, iss.Claims(audience, "u"))
	next := oidctest.NewKey(t, "RS256")
	iss.Publish(next)
	iss.SignWith(next)
	rotated := iss.Sign(t, iss.Claims(audience, "u"))

	clk.Advance(oidc.KeyRefreshInterval)
	iss.SetDown(true)
	if _, err := v.Verify(ctx, rotated); !errors.Is(err, oidc.ErrInvalidToken) {
		t.Fatalf("new key with the issuer down: got %v, want ErrInvalidToken", err)
	}
	if _, err := v.Verify(ctx, known); err != nil {
		t.Fatalf("known key after a failed download: got %v, want it still accepted", err)
	}
	iss.SetDown(false)
	clk.Advance(oidc.KeyRefreshInterval - time.Nanosecond)
	if _, err := v.Verify(ctx, rotated); !errors.Is(err, oidc.ErrInvalidToken) || iss.JWKSFetches() != 1 {
		t.Fatalf("within 30 s of the failed download: got %v and %d fetches, want refused without a download", err, iss.JWKSFetches())
	}
	clk.Advance(time.Nanosecond)
	if _, err := v.Verify(ctx, rotated); err != nil || iss.JWKSFetches() != 2 {
		t.Fatalf("30 s after the failed download: got %v and %d fetches, want accepted after one download", err, iss.JWKSFetches())
	}
}

// TestKeySetDownloadIsShared holds a download in flight. A request that
// gives up waiting on it (its context ends) does not cut it short for the
// others: they get the new key, and the download is not repeated.
func TestKeySetDownloadIsShared(t *testing.T) {
	iss, v, clk := setup(t)
	ctx := context.Background()
	if _, err := v.Verify(ctx, iss.Sign(t, iss.Claims(audience, "u"))); err != nil {
		t.Fatal(err)
	}
	next := oidctest.NewKey(t, "RS256")
	iss.Publish(next)
	iss.SignWith(next)
	tok := iss.Sign(t, iss.Claims(audience, "u"))
	clk.Advance(oidc.KeyRefreshInterval)
	open := iss.HoldJWKS()
	defer open()

	quitter, quit := context.WithCancel(ctx)
	quitterDone := make(chan error, 1)
	go func() {
		_, err := v.Verify(quitter, tok)
		quitterDone <- err
	}()
	for iss.JWKSFetches() < 2 {
		time.Sleep(time.Millisecond) // until the download reaches the issuer
	}
	waiters := make(chan error, 5)
	for range cap(waiters) {
		go func() {
			_, err := v.Verify(ctx, tok)
			waiters <- err
		}()
	}
	quit()
	// (go-oidc passes the cause on as text only.)
	if err := <-quitterDone; !errors.Is(err, oidc.ErrInvalidToken) || !strings.Contains(err.Error(), context.Canceled.Error()) {
		t.Errorf("the request that gave up: got %v, want ErrInvalidToken for its cancellation", err)
	}
	open()
	for range cap(waiters) {
		if err := <-waiters; err != nil {
			t.Errorf("a request waiting on the same download: got %v, want the new key accepted", err)
		}
	}
	if got := iss.JWKSFetches(); got != 2 {
		t.Errorf("JWKS fetches = %d, want 2: one shared download", got)
	}
}

// TestANewKeyIsNeverServedAFinishedDownload is the regression test of
// TestKeyRotation's old flake. go-oidc's RemoteKeySet woke the requests
// waiting on a download before it stored the keys and freed its in-flight
// slot, so a request that came in between (easy on a busy machine) joined
// the finished download and got the key set from before it: a new key
// was refused. Here each round's request comes right after the previous
// download returned, which is when that window was open.
func TestANewKeyIsNeverServedAFinishedDownload(t *testing.T) {
	iss, v, clk := setup(t)
	ctx := context.Background()
	base := oidctest.NewKey(t, "RS256")
	for round := range 200 {
		// A new key ID each round is a new key to the cache, which finds
		// keys by their ID; generating 200 RSA keys would cost seconds.
		k := base.Renamed(fmt.Sprintf("round-%d", round))
		iss.Publish(k)
		iss.SignWith(k)
		tok := iss.Sign(t, iss.Claims(audience, "u"))
		clk.Advance(oidc.KeyRefreshInterval)
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatalf("round %d: a key published before the download was refused: %v", round, err)
		}
		if got := iss.JWKSFetches(); got != round+1 {
			t.Fatalf("round %d: JWKS fetches = %d, want %d", round, got, round+1)
		}
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
	for _, alg := range []string{"RS256"} {
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
