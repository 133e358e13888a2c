// Package secrets provides the per-platform Intercom secrets: AWS Secrets
// Manager behind a cache in Lambda, and literal values (Static)
// for local runs.
//
//	aws, err := awsenv.Load(ctx, awsEnv) // once per execution environment
//	cache := secrets.NewCache(secrets.NewClient(aws.SecretsManager()),
//		secrets.WithTTL(cfg.SecretCacheTTL), secrets.WithMaxStale(cfg.SecretMaxStale))
//	src := secrets.NewPlatforms(cache, cfg.SecretIDs, cfg.SecretLiterals)
//	src.Prefetch(ctx) // during init; failures are logged and retried later
//	key, err := src.PlatformSecret(ctx, platform.IOS)
//
// The cache calls GetSecretValue, at most once per secret ID per TTL
// however many requests ask at once, and, for the prefetch during init,
// BatchGetSecretValue (one call, one TLS connection, for every secret), and
// nothing else. When a refresh fails it
// serves the stale value for up to the max stale time, and backs off so
// that a failing or missing secret costs at most one call per backoff
// interval.
//
// A secret that cannot be had right now is an *UnavailableError, which says
// why (Reason) and when to try again (RetryAfter); callers answer 503 with
// Retry-After and never pass the error's text to a client.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/intercom-identity/userhash/shared/platform"
)

// ErrNotConfigured is returned for a platform that has no secret.
var ErrNotConfigured = errors.New("no secret configured for platform")

// UnavailableError means a secret could not be had and no usable cached
// value exists. Its text is for logs only: it names the secret ID and the
// kind of failure, never a value.
type UnavailableError struct {
	SecretID string
	Reason   string        // a stable word for logs and metrics: one of the Reason constants
	Wait     time.Duration // until the next fetch will be tried, in whole seconds, at least one
	Err      error
}

// RetryAfter is how long until the next fetch will be tried.
func (e *UnavailableError) RetryAfter() time.Duration { return e.Wait }

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("secret %s unavailable (%s): %v", e.SecretID, e.Reason, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Static serves literal secrets, for local runs only.
type Static map[platform.Platform][]byte

// PlatformSecret returns the secret of p.
func (s Static) PlatformSecret(_ context.Context, p platform.Platform) ([]byte, error) {
	if v, ok := s[p]; ok && len(v) > 0 {
		return v, nil
	}
	return nil, fmt.Errorf("%s: %w", p, ErrNotConfigured)
}

// Ref names a secret in Secrets Manager: a name or ARN, and optionally the
// field of a JSON SecretString that holds the value ("ID#key").
type Ref struct {
	ID  string
	Key string // empty: the whole SecretString is the secret
}

// RefOf reads a reference as the configuration writes it: "ID", or
// "ID#key" (config.ParseSecretID checks the form).
func RefOf(s string) Ref {
	id, key, _ := strings.Cut(s, "#")
	return Ref{ID: id, Key: key}
}

// String returns the reference as it is written in configuration.
func (r Ref) String() string {
	if r.Key == "" {
		return r.ID
	}
	return r.ID + "#" + r.Key
}
