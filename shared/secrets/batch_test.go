// The prefetch's BatchGetSecretValue: one call for every secret, each value
// stored as its own GetSecretValue would have stored it, a failure inside
// the batch confined to its secret, and GetSecretValue for each when the
// batch call itself fails.

package secrets_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// getOnly is a client with GetSecretValue alone, as an SDK client hidden
// behind the cache's one-method interface: the cache cannot batch with it.
type getOnly struct{ secrets.GetSecretValueAPI }

// prefetchSecrets are the secrets of the batch cases: a plain value, a
// JSON object read by key, and a rotation function's value.
func prefetchSecrets(sm *awsfake.SecretsManager) []secrets.Ref {
	sm.Put("plain", "v-plain")
	sm.Put("mobile", `{"ios":"v-ios","android":"v-android"}`)
	sm.Put("rotated", `{"secret":"v-rotated","intercom_secret_id":"42"}`)
	return []secrets.Ref{{ID: "plain"}, {ID: "mobile", Key: "ios"}, {ID: "mobile", Key: "android"}, {ID: "rotated"}}
}

var prefetchWant = map[string]string{"plain": "v-plain", "mobile#ios": "v-ios", "mobile#android": "v-android", "rotated": "v-rotated"}

func TestPrefetchBatches(t *testing.T) {
	t.Run("one call for every secret, each stored as its own GetSecretValue would store it", func(t *testing.T) {
		f := newFixture(t)
		refs := prefetchSecrets(f.sm)
		f.cache.Prefetch(context.Background(), refs...)
		if got := f.sm.BatchCalls(); got != 1 {
			t.Fatalf("BatchGetSecretValue calls = %d, want 1; log:\n%s", got, f.logs)
		}
		if got := f.events.count(secrets.EventFetch); got != 3 {
			t.Errorf("fetch events = %d, want 3, one per secret ID", got)
		}
		// Served from memory until the TTL, as a GetSecretValue's value.
		f.clock.Advance(testTTL - time.Second)
		for _, r := range refs {
			if got, err := f.cache.Get(context.Background(), r); err != nil || string(got) != prefetchWant[r.String()] {
				t.Errorf("Get(%s) = %q, %v; want %q", r, got, err, prefetchWant[r.String()])
			}
		}
		if got := f.sm.TotalCalls(); got != 3 {
			t.Errorf("secrets fetched = %d, want 3, all in the batch", got)
		}
		if got := f.cache.VersionID("mobile"); got == "" {
			t.Error("no version ID stored for a batched secret")
		}
		// And refreshed with GetSecretValue once the TTL has passed.
		f.clock.Advance(2 * time.Second)
		if _, err := f.cache.Get(context.Background(), secrets.Ref{ID: "plain"}); err != nil {
			t.Fatal(err)
		}
		if got, batches := f.sm.Calls("plain"), f.sm.BatchCalls(); got != 2 || batches != 1 {
			t.Errorf("after the TTL: calls of plain = %d, batches = %d; want 2 and 1 (a GetSecretValue)", got, batches)
		}
		if others := f.sm.OtherCalls(); len(others) != 0 {
			t.Errorf("other operations called: %v", others)
		}
	})

	t.Run("secrets named by ARN and by partial ARN", func(t *testing.T) {
		f := newFixture(t)
		prefetchSecrets(f.sm)
		full, partial := f.sm.ARN("plain"), strings.TrimSuffix(f.sm.ARN("mobile"), "-AbCdEf")
		refs := []secrets.Ref{{ID: full}, {ID: partial, Key: "android"}, {ID: "rotated"}}
		f.cache.Prefetch(context.Background(), refs...)
		want := []string{"v-plain", "v-android", "v-rotated"}
		for i, r := range refs {
			if got, err := f.cache.Get(context.Background(), r); err != nil || string(got) != want[i] {
				t.Errorf("Get(%s) = %q, %v; want %q", r, got, err, want[i])
			}
		}
		if got, total := f.sm.BatchCalls(), f.sm.TotalCalls(); got != 1 || total != 3 {
			t.Errorf("batches = %d, secrets fetched = %d; want 1 and 3 (each answer matched to its ID, none fetched again)", got, total)
		}
	})

	t.Run("one secret: GetSecretValue", func(t *testing.T) {
		f := newFixture(t)
		f.sm.Put("s", "v")
		f.cache.Prefetch(context.Background(), secrets.Ref{ID: "s", Key: ""})
		if got, calls := f.sm.BatchCalls(), f.sm.Calls("s"); got != 0 || calls != 1 {
			t.Errorf("batches = %d, calls = %d; want 0 and 1", got, calls)
		}
	})

	t.Run("a Get during the batch waits for it and makes no call", func(t *testing.T) {
		f := newFixture(t)
		refs := prefetchSecrets(f.sm)
		open := f.sm.Hold("plain")
		done := make(chan struct{})
		go func() { f.cache.Prefetch(context.Background(), refs...); close(done) }()
		waitFor(t, 10*time.Second, "the batch to reach Secrets Manager", func() bool { return f.sm.Calls("plain") == 1 })
		var got []byte
		var err error
		var wg sync.WaitGroup
		wg.Go(func() { got, err = f.cache.Get(context.Background(), secrets.Ref{ID: "plain"}) })
		time.Sleep(50 * time.Millisecond) // the Get joins the flight
		open()
		wg.Wait()
		<-done
		if err != nil || string(got) != "v-plain" {
			t.Errorf("Get during the batch = %q, %v", got, err)
		}
		if calls, batches := f.sm.Calls("plain"), f.sm.BatchCalls(); calls != 1 || batches != 1 {
			t.Errorf("calls of plain = %d, batches = %d; want 1 and 1", calls, batches)
		}
	})
}

func TestPrefetchBatchFailures(t *testing.T) {
	t.Run("a secret that fails inside the batch fails alone, as its own GetSecretValue would", func(t *testing.T) {
		failing := map[string]*awsfake.Error{
			"denied":    awsfake.SMAccessDenied,
			"undecrypt": awsfake.SMDecryptionFailure,
			"throttled": awsfake.SMThrottling,
			"missing":   nil, // never created
		}
		reasons := func(f *fixture, batched bool) map[string]string {
			refs := prefetchSecrets(f.sm)
			for id, e := range failing {
				if e != nil {
					f.sm.Put(id, "never served")
					f.sm.Fail(id, e)
				}
				refs = append(refs, secrets.Ref{ID: id})
			}
			f.cache.Prefetch(context.Background(), refs...)
			if got := f.sm.BatchCalls(); (got == 1) != batched {
				t.Fatalf("batches = %d, want batched %v", got, batched)
			}
			got := map[string]string{}
			for _, r := range refs {
				v, err := f.cache.Get(context.Background(), r)
				var u *secrets.UnavailableError
				switch {
				case errors.As(err, &u):
					got[r.String()] = u.Reason
				case err != nil:
					t.Errorf("Get(%s): %v, want an *UnavailableError", r, err)
				default:
					got[r.String()] = string(v)
				}
			}
			return got
		}
		batched, alone := newFixture(t), newFixture(t)
		alone.cache = secrets.NewCache(getOnly{newClient(alone.sm.Start(t))}, secrets.WithJitter(0), secrets.WithClock(alone.clock.Now))
		want, got := reasons(alone, false), reasons(batched, true)
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: batched gives %q, alone %q", k, got[k], w)
			}
		}
		for id, w := range map[string]string{"denied": secrets.ReasonAccessDenied, "undecrypt": secrets.ReasonDecryptionFailure, "throttled": secrets.ReasonThrottled, "missing": secrets.ReasonNotFound, "plain": "v-plain"} {
			if got[id] != w {
				t.Errorf("%s = %q, want %q", id, got[id], w)
			}
		}
		// Each failure logged at init with its reason and code, and the
		// first request tried again: no backoff from init.
		for _, want := range []string{"secret_id=denied reason=access_denied", "aws_error=AccessDeniedException", "secret_id=missing reason=not_found"} {
			if !strings.Contains(batched.logs.String(), want) {
				t.Errorf("log lacks %q:\n%s", want, batched.logs)
			}
		}
		if got := batched.sm.Calls("missing"); got != 2 {
			t.Errorf("calls of the missing secret = %d, want 2: the batch, then the first Get", got)
		}
	})

	t.Run("the batch call refused: each secret with GetSecretValue, in parallel", func(t *testing.T) {
		f := newFixture(t)
		refs := prefetchSecrets(f.sm)
		f.sm.FailBatch(&awsfake.Error{Status: 400, Type: "AccessDeniedException", Message: "User is not authorized to perform: secretsmanager:BatchGetSecretValue"})
		// No GetSecretValue is answered until all three are in flight.
		url := startBarrier(t, f.sm, 3)
		f.cache = secrets.NewCache(newClient(url), secrets.WithAttemptTimeout(time.Minute), secrets.WithJitter(0),
			secrets.WithClock(f.clock.Now), secrets.WithLogger(slog.New(slog.NewTextHandler(f.logs, nil))))
		f.cache.Prefetch(context.Background(), refs...)
		for _, r := range refs {
			if got, err := f.cache.Get(context.Background(), r); err != nil || string(got) != prefetchWant[r.String()] {
				t.Errorf("Get(%s) = %q, %v; want %q", r, got, err, prefetchWant[r.String()])
			}
		}
		if got, total := f.sm.BatchCalls(), f.sm.TotalCalls(); got != 1 || total != 3 {
			t.Errorf("batches = %d, secrets fetched = %d; want 1 refused and 3 GetSecretValue", got, total)
		}
		if !strings.Contains(f.logs.String(), "aws_error=AccessDeniedException") || !strings.Contains(f.logs.String(), "secretsmanager:BatchGetSecretValue") {
			t.Errorf("the refused batch is not logged with its code and what to allow:\n%s", f.logs)
		}
	})

	t.Run("the batch call timed out: no second wait", func(t *testing.T) {
		f := newFixture(t, secrets.WithAttemptTimeout(100*time.Millisecond))
		refs := prefetchSecrets(f.sm)
		f.sm.Hang("", true)
		f.cache.Prefetch(context.Background(), refs...)
		if got, total := f.sm.BatchCalls(), f.sm.TotalCalls(); got != 1 || total != 3 {
			t.Errorf("batches = %d, secrets fetched = %d; want 1 and 3, none again on its own", got, total)
		}
		if got := f.events.count(secrets.EventFetchError); got != 3 {
			t.Errorf("fetch errors = %d, want 3", got)
		}
		if !strings.Contains(f.logs.String(), "reason=timeout") {
			t.Errorf("timeout not logged:\n%s", f.logs)
		}
	})
}
