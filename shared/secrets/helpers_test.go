// Test plumbing shared by the secrets tests: a fake clock, a log buffer, an
// event counter, and a cache whose real SDK client talks to the awsfake
// Secrets Manager over HTTP.

package secrets_test

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/internal/logtest"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// clock is a fake clock that moves only when told to.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
}

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

// events counts the cache's events by kind.
type events struct {
	mu sync.Mutex
	n  map[secrets.EventKind]int
}

func (e *events) observe(ev secrets.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == nil {
		e.n = map[secrets.EventKind]int{}
	}
	e.n[ev.Kind]++
}

func (e *events) count(k secrets.EventKind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.n[k]
}

type fixture struct {
	sm     *awsfake.SecretsManager
	clock  *clock
	logs   *logtest.Buffer
	events *events
	cache  *secrets.Cache
}

// Defaults of the fixture's cache: no jitter, so that times are exact.
const (
	testTTL        = 5 * time.Minute
	testMaxStale   = time.Hour
	testBackoffMin = time.Second
	testBackoffMax = time.Minute
)

// newFixture returns a cache over a real Secrets Manager client pointed at
// a fresh fake. opts come after the fixture's own, so they win.
func newFixture(t testing.TB, opts ...secrets.Option) *fixture {
	t.Helper()
	f := &fixture{sm: awsfake.NewSecretsManager(), clock: newClock(), logs: &logtest.Buffer{}, events: &events{}}
	url := f.sm.Start(t)
	base := []secrets.Option{
		secrets.WithTTL(testTTL),
		secrets.WithMaxStale(testMaxStale),
		secrets.WithBackoff(testBackoffMin, testBackoffMax),
		secrets.WithJitter(0),
		secrets.WithClock(f.clock.Now),
		secrets.WithLogger(slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		secrets.WithObserver(f.events.observe),
	}
	f.cache = secrets.NewCache(newClient(url), append(base, opts...)...)
	return f
}

// newClient returns the client NewClient builds, pointed at url with
// dummy credentials: the real SDK, signing and all.
func newClient(url string) *secretsmanager.Client {
	return secrets.NewClient(awsfake.Config(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(url) })
}
