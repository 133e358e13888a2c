// The Secrets Manager cache: one value per secret ID per
// execution environment, single-flight fetches, TTL with jitter, stale
// serving through an outage, and backoff so that a failing secret is not
// hammered however many requests arrive.

package secrets

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"golang.org/x/sync/singleflight"
)

// GetSecretValueAPI is the Secrets Manager call the cache makes for every
// fetch but the prefetch's (see BatchGetSecretValueAPI), so that the
// function's IAM policy stays that narrow. *secretsmanager.Client
// satisfies it.
type GetSecretValueAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

var _ GetSecretValueAPI = (*secretsmanager.Client)(nil)

// The defaults, chosen for a Lambda function that answers in milliseconds.
const (
	DefaultTTL            = 5 * time.Minute
	DefaultMaxStale       = time.Hour
	DefaultAttemptTimeout = 2 * time.Second // Secrets Manager answers in tens of ms; 2s covers a cold TLS handshake
	DefaultBackoffMin     = time.Second
	DefaultBackoffMax     = time.Minute
	DefaultJitter         = 0.1 // up to 10% added to TTLs and backoffs
)

// Cache serves Secrets Manager secrets from memory. It is safe for
// concurrent use; make one per execution environment and keep it.
type Cache struct {
	client         GetSecretValueAPI
	ttl, maxStale  time.Duration
	attemptTimeout time.Duration
	backoffMin     time.Duration
	backoffMax     time.Duration
	jitter         float64
	now            func() time.Time
	log            *slog.Logger
	observe        func(Event)

	flights singleflight.Group
	entries sync.Map // secret ID -> *entry
}

// entry holds one secret ID's current state. The state is an immutable
// snapshot swapped atomically, so a cache hit takes no lock; only the
// single-flight leader for the ID ever stores a new one.
type entry struct {
	state atomic.Pointer[state]
}

type state struct {
	val        *version  // the last usable value; nil if none was ever fetched
	expires    time.Time // val is fresh until then
	staleUntil time.Time // and may be served while refreshes fail until then

	failures  int               // consecutive failed fetches since the last success
	nextFetch time.Time         // no fetch before then (backoff); zero: fetch when needed
	lastErr   *UnavailableError // why the last fetch failed; nil after a success
}

// Option configures a Cache.
type Option func(*Cache)

// WithTTL sets how long a fetched value is served before it is fetched
// again (SECRET_CACHE_TTL). Values <= 0 leave the default.
func WithTTL(d time.Duration) Option {
	return func(c *Cache) {
		if d > 0 {
			c.ttl = d
		}
	}
}

// WithMaxStale sets how long past its TTL a value is still served while
// refreshes fail (SECRET_MAX_STALE). 0 serves no stale values.
func WithMaxStale(d time.Duration) Option {
	return func(c *Cache) {
		if d >= 0 {
			c.maxStale = d
		}
	}
}

// WithAttemptTimeout bounds each GetSecretValue call, so that a hung
// endpoint cannot eat the invocation's timeout. The call is shared by every
// caller waiting for the same secret, so this is its only bound: a caller
// whose own deadline comes sooner stops waiting then, and the call goes on
// for the others. Values <= 0 leave the default.
func WithAttemptTimeout(d time.Duration) Option {
	return func(c *Cache) {
		if d > 0 {
			c.attemptTimeout = d
		}
	}
}

// WithBackoff sets the wait after a failed fetch: first after the first
// failure, doubling with each further one up to limit. Values <= 0 leave the
// defaults.
func WithBackoff(first, limit time.Duration) Option {
	return func(c *Cache) {
		if first > 0 {
			c.backoffMin = first
		}
		if limit > 0 {
			c.backoffMax = limit
		}
		c.backoffMax = max(c.backoffMin, c.backoffMax)
	}
}

// WithJitter sets the fraction (0 to 1) of random time added to each TTL and
// backoff, so that execution environments started together do not refresh
// together. Jitter only lengthens: a secret is never fetched more than once
// per TTL, nor a failing one more than once per backoff.
func WithJitter(fraction float64) Option {
	return func(c *Cache) {
		if fraction >= 0 && fraction <= 1 {
			c.jitter = fraction
		}
	}
}

// WithClock sets the clock that TTLs, staleness and backoff are measured
// with; tests pass a fake one. Call timeouts use real time, as contexts do.
func WithClock(now func() time.Time) Option {
	return func(c *Cache) {
		if now != nil {
			c.now = now
		}
	}
}

// WithLogger sets where fetch failures are logged (one line per failed
// call, never a value). The default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(c *Cache) {
		if l != nil {
			c.log = l
		}
	}
}

// WithObserver sets a function told of every hit, miss, stale serve, fetch
// and failure, for metrics. It runs on the request path: keep it quick.
func WithObserver(fn func(Event)) Option {
	return func(c *Cache) { c.observe = fn }
}

// NewCache returns a cache that fetches with client, usually the one
// NewClient returns. If client also has BatchGetSecretValue
// (BatchGetSecretValueAPI), Prefetch uses it.
func NewCache(client GetSecretValueAPI, opts ...Option) *Cache {
	c := &Cache{
		client:         client,
		ttl:            DefaultTTL,
		maxStale:       DefaultMaxStale,
		attemptTimeout: DefaultAttemptTimeout,
		backoffMin:     DefaultBackoffMin,
		backoffMax:     DefaultBackoffMax,
		jitter:         DefaultJitter,
		now:            time.Now,
		log:            slog.Default(),
		observe:        func(Event) {},
	}
	for _, o := range opts {
		o(c)
	}
	if c.observe == nil {
		c.observe = func(Event) {}
	}
	return c
}

// Get returns the value ref names. A fresh cached value costs no call; an
// expired or missing one is fetched, once however many callers ask at the
// same time. If the fetch fails, or fetches are backing off after a failure,
// a value that is no older than its TTL plus the max stale time is served
// instead. Otherwise the error is an *UnavailableError that says when the
// next fetch will be tried.
//
// The returned slice is shared with the cache and other callers: do not
// modify it.
func (c *Cache) Get(ctx context.Context, ref Ref) ([]byte, error) {
	s := c.entry(ref.ID).state.Load()
	now := c.now()
	if s.val != nil && now.Before(s.expires) {
		c.observe(Event{Kind: EventHit, SecretID: ref.ID})
		return c.value(s, ref, now)
	}
	if now.Before(s.nextFetch) {
		return c.fallback(s, ref, now, s.lastErr)
	}

	c.observe(Event{Kind: EventMiss, SecretID: ref.ID})
	ch := c.flights.DoChan(ref.ID, func() (any, error) {
		return c.fetch(ctx, ref.ID, true, c.getSecretValue)
	})
	select {
	case r := <-ch:
		s := r.Val.(*state)
		now := c.now()
		if r.Err != nil {
			return c.fallback(s, ref, now, s.lastErr)
		}
		return c.value(s, ref, now)
	case <-ctx.Done():
		// The fetch goes on for the others waiting on it, bounded by the
		// attempt timeout, and stores what it gets; this caller has run out
		// of time. Its giving up changes no state: only a failure of the
		// fetch itself arms the backoff.
		reason := ReasonTimeout
		if errors.Is(ctx.Err(), context.Canceled) {
			reason = ReasonCanceled
		}
		return c.fallback(s, ref, c.now(), &UnavailableError{SecretID: ref.ID, Reason: reason, Err: ctx.Err()})
	}
}

// Prefetch fetches the secrets refs name and returns when all have
// answered. It is for a cold start: a failure is logged, never returned,
// and does not start a backoff, so the first request tries again (and Get
// reports the error if that fails too). Values that are already fresh are
// not fetched again.
//
// With two secret IDs or more and a client that has BatchGetSecretValue
// (as *secretsmanager.Client has), they are fetched in one call, on one
// connection; each value is stored exactly as its own GetSecretValue would
// have stored it, and a secret that fails inside the batch fails alone. If
// the batch call itself fails (the role may not call it, or it is
// throttled), each secret is fetched with GetSecretValue, in parallel.
func (c *Cache) Prefetch(ctx context.Context, refs ...Ref) {
	byID := map[string][]Ref{}
	for _, r := range refs {
		byID[r.ID] = append(byID[r.ID], r)
	}
	get := c.batchGetter(byID)
	var wg sync.WaitGroup
	for id, rs := range byID {
		wg.Go(func() {
			v, err, _ := c.flights.Do(id, func() (any, error) {
				return c.fetch(ctx, id, false, get)
			})
			if err != nil {
				return // fetch logged it
			}
			// Check the keys now, so that a missing one is in the init log
			// rather than found by the first user.
			s, now := v.(*state), c.now()
			for _, r := range rs {
				_, _ = c.value(s, r, now)
			}
		})
	}
	wg.Wait()
}

func (c *Cache) entry(id string) *entry {
	if e, ok := c.entries.Load(id); ok {
		return e.(*entry)
	}
	e := &entry{}
	e.state.Store(&state{})
	actual, _ := c.entries.LoadOrStore(id, e)
	return actual.(*entry)
}

// getter fetches the AWSCURRENT version of one secret ID: GetSecretValue,
// or its share of a BatchGetSecretValue.
type getter func(ctx context.Context, id string) (*secretsmanager.GetSecretValueOutput, error)

func (c *Cache) getSecretValue(ctx context.Context, id string) (*secretsmanager.GetSecretValueOutput, error) {
	return c.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id), VersionStage: aws.String("AWSCURRENT")})
}

// fetch gets id's value with get and stores the outcome. It runs as the
// single-flight leader for id, so it is the only writer of id's state; it
// returns the new state, and the state's lastErr when the fetch failed.
// armBackoff is false for Prefetch, whose failure must not stop the first
// request from trying again.
func (c *Cache) fetch(ctx context.Context, id string, armBackoff bool, get getter) (*state, error) {
	e := c.entry(id)
	old := e.state.Load()
	now := c.now()
	// A caller that saw an expired state may arrive after another flight
	// has just refreshed it; without this check it would call again.
	if old.val != nil && now.Before(old.expires) {
		return old, nil
	}
	if now.Before(old.nextFetch) {
		return old, old.lastErr
	}

	callCtx, cancel := c.attemptContext(ctx)
	defer cancel()
	start := time.Now()
	out, err := get(callCtx, id)
	took := time.Since(start)
	var val *version
	if err == nil {
		val, err = parseVersion(out)
	}
	now = c.now()

	if err == nil {
		ttl := c.jittered(c.ttl)
		s := &state{val: val, expires: now.Add(ttl), staleUntil: now.Add(ttl + c.maxStale)}
		e.state.Store(s)
		c.observe(Event{Kind: EventFetch, SecretID: id, Duration: took})
		if old.lastErr != nil {
			c.log.LogAttrs(ctx, slog.LevelInfo, "secret fetched again after failures",
				slog.String("secret_id", id), slog.Int("failures", old.failures),
				slog.String("version_id", val.versionID))
		} else {
			c.log.LogAttrs(ctx, slog.LevelDebug, "secret fetched",
				slog.String("secret_id", id), slog.String("version_id", val.versionID),
				slog.String("took", took.Round(time.Millisecond).String()))
		}
		return s, nil
	}

	uerr := classify(id, err)
	s := &state{val: old.val, expires: old.expires, staleUntil: old.staleUntil, failures: old.failures, lastErr: uerr}
	var wait time.Duration
	if armBackoff {
		s.failures++
		wait = c.jittered(c.backoff(s.failures))
		s.nextFetch = now.Add(wait)
	}
	e.state.Store(s)
	c.observe(Event{Kind: EventFetchError, SecretID: id, Reason: uerr.Reason, Duration: took})

	stale := s.val != nil && now.Before(s.staleUntil)
	level := slog.LevelError
	if stale {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("secret_id", id),
		slog.String("reason", uerr.Reason),
		slog.Bool("serving_stale", stale),
		slog.String("next_try_in", wait.Round(time.Millisecond).String()),
		slog.Int("failures", s.failures),
		slog.String("took", took.Round(time.Millisecond).String()),
	}
	if code := awsErrorCode(err); code != "" {
		attrs = append(attrs, slog.String("aws_error", code))
	}
	// The SDK's error text names the operation, status and request ID, and
	// ours name the secret and key: neither ever holds a value.
	attrs = append(attrs, slog.String("error", err.Error()))
	c.log.LogAttrs(ctx, level, reasonMessage(uerr.Reason), attrs...)
	return s, uerr
}

// attemptContext bounds one call by the attempt timeout alone. The call
// belongs to the flight, not to the caller that happened to start it:
// other callers may be waiting on it, each until its own deadline, and if
// the leader's shorter deadline or cancellation cut it short, all of them
// would fail, and the cut call would arm the backoff as if Secrets Manager
// had failed. So the leader's deadline and cancellation are both left out;
// its values (for the SDK's logging and tracing) are kept.
func (c *Cache) attemptContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), c.attemptTimeout)
}

// fallback answers when no fresh value can be had: the stale value if it is
// still within its max stale time, else an *UnavailableError.
func (c *Cache) fallback(s *state, ref Ref, now time.Time, cause *UnavailableError) ([]byte, error) {
	if s.val != nil && now.Before(s.staleUntil) {
		c.observe(Event{Kind: EventStale, SecretID: ref.ID})
		return c.value(s, ref, now)
	}
	if cause == nil {
		// A value past its max stale time with no failure recorded cannot
		// happen through fetch; keep the error well formed anyway.
		cause = &UnavailableError{SecretID: ref.ID, Reason: ReasonError, Err: errors.New("no usable value")}
	}
	err := *cause
	err.Wait = retryAfter(s.nextFetch.Sub(now))
	c.observe(Event{Kind: EventUnavailable, SecretID: ref.ID, Reason: err.Reason})
	return nil, &err
}

// value extracts ref's value from s.val, which must be set.
func (c *Cache) value(s *state, ref Ref, now time.Time) ([]byte, error) {
	v, err := s.val.get(ref.Key)
	if err == nil {
		return v, nil
	}
	if s.val.warnOnce(ref.Key) {
		c.log.LogAttrs(context.Background(), slog.LevelError, reasonMessage(ReasonInvalidValue),
			slog.String("secret_id", ref.ID), slog.String("reason", ReasonInvalidValue),
			slog.String("version_id", s.val.versionID), slog.String("error", err.Error()))
	}
	c.observe(Event{Kind: EventUnavailable, SecretID: ref.ID, Reason: ReasonInvalidValue})
	// The value cannot change before the next fetch, which is due when
	// this one expires.
	return nil, &UnavailableError{SecretID: ref.ID, Reason: ReasonInvalidValue, Wait: retryAfter(s.expires.Sub(now)), Err: err}
}

// backoff returns the wait after n consecutive failures.
func (c *Cache) backoff(n int) time.Duration {
	d := c.backoffMin
	for i := 1; i < n && d < c.backoffMax; i++ {
		d *= 2
	}
	return min(d, c.backoffMax)
}

func (c *Cache) jittered(d time.Duration) time.Duration {
	if c.jitter == 0 {
		return d
	}
	return d + rand.N(time.Duration(float64(d)*c.jitter)+1)
}

// retryAfter rounds d up to whole seconds, at least one, as Retry-After
// carries them.
func retryAfter(d time.Duration) time.Duration {
	if d <= time.Second {
		return time.Second
	}
	return (d + time.Second - 1).Truncate(time.Second)
}
