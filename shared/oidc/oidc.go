// Package oidc verifies bearer tokens the way API Gateway's JWT authorizer
// does, for the local server, which has no gateway in front of it. Inside
// Lambda the gateway has already verified the token and this package is not
// used for that.
//
//	v, err := oidc.NewVerifier(issuer, audience) // JWT_ISSUER, JWT_AUDIENCE
//	if err := v.Discover(ctx); err != nil {
//		// the issuer is not reachable yet; Verify will try again
//	}
//	claims, err := v.Verify(ctx, bearerToken) // map[string]string, as the gateway passes them
//	if errors.Is(err, oidc.ErrInvalidToken) { /* 401 */ }
//
// What is checked, as the gateway does: the signature, with the key of the
// issuer's JWKS that the token's kid names (found by OIDC discovery, cached,
// fetched again when a token names a key ID not seen before; a token with
// no kid is refused, as the gateway refuses it); the algorithm, RS256, RS384 or RS512
// only, so neither "none" nor HS256 keyed with the public key gets through,
// and an ES256 token, which the gateway (RSA only) would refuse in AWS, is
// refused here too; iss equal
// to the issuer; aud containing the audience, or, for tokens without aud
// (Cognito access tokens), client_id equal to it; exp in the future; nbf and
// iat not in the future.
//
// Keys are cached for the life of the process and downloaded again for a
// key ID not in the cache, but at most once per KeyRefreshInterval (30 s)
// whatever tokens arrive: made-up key IDs cannot make the server hammer the
// issuer, and a key the issuer newly publishes is accepted within 30 s.
// One download at a time, shared by the requests waiting on it.
//
// The token checks are github.com/coreos/go-oidc's and the cryptography is
// go-jose's; this package adds the rate-limited key set, the gateway's
// audience rule, a stricter nbf, an iat check, lazy discovery and the
// gateway's flattening of claims.
package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/intercom-identity/userhash/shared/auth"
)

var (
	// ErrInvalidToken means the bearer token is not one the issuer signed
	// for this audience and is valid now. Answer 401; the wrapped text says
	// why, for the log, and never contains the token or a claim of the user.
	ErrInvalidToken = errors.New("invalid bearer token")
	// ErrIssuerUnavailable means OIDC discovery failed, so no token can be
	// checked yet. Answer 401 too (the gateway does); it is retried later.
	ErrIssuerUnavailable = errors.New("token issuer unavailable")
)

// algorithms are the only signing algorithms accepted: RSA ones, as API
// Gateway's JWT authorizer says of itself ("Currently, only RSA-based
// algorithms are supported"). An ES256 token, such as a Supabase project's
// with its default ECC key, would pass a verifier that took it and then be
// refused by the gateway in AWS.
var algorithms = []string{gooidc.RS256, gooidc.RS384, gooidc.RS512}

// Leeway is how far in the future nbf and iat may be, for clock skew
// between this machine and the issuer. exp gets none: a token is never
// accepted after its issuer said it ends.
const Leeway = time.Minute

// Verifier checks bearer tokens of one issuer for one audience. It is safe
// for concurrent use; build one per process, since it caches the keys.
type Verifier struct {
	issuer, audience string
	client           *http.Client
	now              func() time.Time

	mu       sync.Mutex // held during discovery, so concurrent callers wait for one attempt
	verifier *gooidc.IDTokenVerifier
	keys     *keySet
	lastErr  error
	lastTry  time.Time
}

// Option configures a Verifier.
type Option func(*Verifier)

// WithClock sets the clock that exp, nbf and iat are checked against, and
// that spaces out discovery retries and key set downloads. Tests pass a
// fake one.
func WithClock(now func() time.Time) Option { return func(v *Verifier) { v.now = now } }

const (
	// discoveryTimeout bounds one discovery attempt and one key set
	// download, so a hanging issuer cannot hold a request forever.
	discoveryTimeout = 5 * time.Second
	// discoveryRetry is how long after a failed discovery the next attempt
	// may start; in between, Verify fails fast instead of letting every
	// request wait on an issuer that is down.
	discoveryRetry = 10 * time.Second
)

// NewVerifier returns a verifier for tokens of issuer (exactly as it
// appears in the tokens' iss, e.g.
// https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC) accepted for
// audience. It does not contact the issuer: discovery happens on Discover
// or on the first Verify, so that the local server can start before the
// issuer is up.
func NewVerifier(issuer, audience string, opts ...Option) (*Verifier, error) {
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("oidc: issuer %q is not an http(s) URL", issuer)
	}
	if audience == "" {
		return nil, errors.New("oidc: empty audience")
	}
	v := &Verifier{
		issuer:   issuer,
		audience: audience,
		client:   &http.Client{Timeout: 10 * time.Second},
		now:      time.Now,
	}
	for _, o := range opts {
		o(v)
	}
	return v, nil
}

// Discover fetches the issuer's discovery document now, if that has not
// succeeded yet, and then its key set, unless that has been downloaded
// already. Call it at start to learn early that JWT_ISSUER is wrong or
// down; a failure is not fatal, since Verify tries again.
func (v *Verifier) Discover(ctx context.Context) error {
	if _, err := v.tokenVerifier(ctx); err != nil {
		return err
	}
	v.mu.Lock()
	keys := v.keys
	v.mu.Unlock()
	if len(keys.cached()) > 0 {
		return nil
	}
	_, err := keys.refresh(ctx)
	return err
}

// tokenVerifier returns the go-oidc verifier, running discovery first if it
// has not succeeded yet and the last failure is old enough.
func (v *Verifier) tokenVerifier(ctx context.Context) (*gooidc.IDTokenVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.verifier != nil {
		return v.verifier, nil
	}
	now := v.now()
	if v.lastErr != nil && now.Sub(v.lastTry) < discoveryRetry {
		return nil, v.lastErr
	}
	v.lastTry = now
	// Every caller waiting on the mutex shares this attempt, so it has a
	// bound of its own rather than the first caller's deadline or
	// cancellation.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discoveryTimeout)
	defer cancel()
	// go-oidc checks that the document names the same issuer; a mismatch
	// (often a trailing slash) fails here rather than on every token.
	p, err := gooidc.NewProvider(gooidc.ClientContext(dctx, v.client), v.issuer)
	if err != nil {
		v.lastErr = fmt.Errorf("%w: discovery at %s: %v", ErrIssuerUnavailable, v.issuer, err)
		return nil, v.lastErr
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := p.Claims(&meta); err != nil || meta.JWKSURI == "" {
		v.lastErr = fmt.Errorf("%w: discovery at %s: no jwks_uri", ErrIssuerUnavailable, v.issuer)
		return nil, v.lastErr
	}
	v.keys = newKeySet(meta.JWKSURI, v.client, v.now, discoveryTimeout, algorithms)
	v.verifier = gooidc.NewVerifier(v.issuer, v.keys, &gooidc.Config{
		// The gateway's audience rule (aud, else client_id) is checked in
		// Verify; go-oidc would insist on aud.
		SkipClientIDCheck:    true,
		SupportedSigningAlgs: slices.Clone(algorithms),
		Now:                  v.now,
	})
	v.lastErr = nil
	return v.verifier, nil
}

// Verify checks token (without the "Bearer " prefix) and returns its claims
// flattened to strings as API Gateway passes them to the function (see
// ClaimStrings). Every failure wraps ErrInvalidToken or ErrIssuerUnavailable.
func (v *Verifier) Verify(ctx context.Context, token string) (map[string]string, error) {
	tv, err := v.tokenVerifier(ctx)
	if err != nil {
		return nil, err
	}
	// Signature (with an allowed algorithm), iss and exp; nbf with go-oidc's
	// five minutes of leeway, tightened below.
	idt, err := tv.Verify(ctx, token)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	var payload json.RawMessage
	if err := idt.Claims(&payload); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	std, err := standardClaims(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if err := std.check(v.audience, v.now()); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	claims, err := auth.ClaimStrings(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return claims, nil
}
