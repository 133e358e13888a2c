// Tests of the cache against the real SDK client and the awsfake Secrets
// Manager: values, cost in calls, expiry and rotation, outages, backoff and
// timeouts, all on a fake clock.

package secrets_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/shared/secrets"
)

func TestCacheGetValue(t *testing.T) {
	f := newFixture(t)
	f.sm.Put("intercom/ios", "ios-secret-value")
	f.sm.Put("intercom/all", `{"android":"android-secret-value","web":"web-secret-value","n":5}`)
	f.sm.Put("intercom/json-whole", ` {"a":"b"} `)
	f.sm.Put("intercom/looks-json", `{not json`)

	tests := []struct {
		name string
		ref  secrets.Ref
		want string
	}{
		{name: "whole SecretString", ref: secrets.Ref{ID: "intercom/ios"}, want: "ios-secret-value"},
		{name: "whole SecretString by ARN", ref: secrets.Ref{ID: f.sm.ARN("intercom/ios")}, want: "ios-secret-value"},
		{name: "JSON field", ref: secrets.Ref{ID: "intercom/all", Key: "android"}, want: "android-secret-value"},
		{name: "another field of the same secret", ref: secrets.Ref{ID: "intercom/all", Key: "web"}, want: "web-secret-value"},
		{name: "JSON without a key is the whole string as stored", ref: secrets.Ref{ID: "intercom/json-whole"}, want: ` {"a":"b"} `},
		{name: "string that only looks like JSON", ref: secrets.Ref{ID: "intercom/looks-json"}, want: `{not json`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.cache.Get(context.Background(), tt.ref)
			if err != nil {
				t.Fatalf("Get(%s): %v", tt.ref, err)
			}
			if string(got) != tt.want {
				t.Errorf("Get(%s) = %q, want %q", tt.ref, got, tt.want)
			}
		})
	}
	if got, want := f.sm.Calls("intercom/all"), 1; got != want {
		t.Errorf("GetSecretValue calls for two keys of one secret = %d, want %d", got, want)
	}
	if got := f.sm.OtherCalls(); len(got) != 0 {
		t.Errorf("operations other than GetSecretValue were called: %v", got)
	}
}

func TestCacheInvalidValue(t *testing.T) {
	const value = "the-secret-value-must-not-leak"
	tests := []struct {
		name    string
		store   func(sm *awsfake.SecretsManager)
		ref     secrets.Ref
		wantErr string
	}{
		{
			name:    "empty SecretString",
			store:   func(sm *awsfake.SecretsManager) { sm.Put("s", "") },
			ref:     secrets.Ref{ID: "s"},
			wantErr: "SecretString is empty",
		},
		{
			name:    "binary only",
			store:   func(sm *awsfake.SecretsManager) { sm.PutBinary("s", []byte(value)) },
			ref:     secrets.Ref{ID: "s"},
			wantErr: "SecretBinary only",
		},
		{
			name:    "key of a string that is not JSON",
			store:   func(sm *awsfake.SecretsManager) { sm.Put("s", value) },
			ref:     secrets.Ref{ID: "s", Key: "ios"},
			wantErr: `key "ios" asked for, but the SecretString is not a JSON object`,
		},
		{
			name:    "key of broken JSON",
			store:   func(sm *awsfake.SecretsManager) { sm.Put("s", `{"ios":"`+value+`"`) },
			ref:     secrets.Ref{ID: "s", Key: "ios"},
			wantErr: "not a JSON object",
		},
		{
			name:    "missing key",
			store:   func(sm *awsfake.SecretsManager) { sm.Put("s", `{"android":"`+value+`"}`) },
			ref:     secrets.Ref{ID: "s", Key: "ios"},
			wantErr: `the SecretString has no field "ios"`,
		},
		{
			name:    "field that is not a string",
			store:   func(sm *awsfake.SecretsManager) { sm.Put("s", `{"ios":{"v":"`+value+`"}}`) },
			ref:     secrets.Ref{ID: "s", Key: "ios"},
			wantErr: `field "ios" of the SecretString is not a string`,
		},
		{
			name:    "empty field",
			store:   func(sm *awsfake.SecretsManager) { sm.Put("s", `{"ios":"","x":"`+value+`"}`) },
			ref:     secrets.Ref{ID: "s", Key: "ios"},
			wantErr: `field "ios" of the SecretString is empty`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.store(f.sm)
			got, err := f.cache.Get(context.Background(), tt.ref)
			var ue *secrets.UnavailableError
			if !errors.As(err, &ue) {
				t.Fatalf("Get = %q, %v; want an *UnavailableError", got, err)
			}
			if ue.Reason != secrets.ReasonInvalidValue {
				t.Errorf("Reason = %q, want %q", ue.Reason, secrets.ReasonInvalidValue)
			}
			if !errors.Is(err, secrets.ErrInvalidValue) {
				t.Errorf("error %v does not wrap ErrInvalidValue", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "secret s ") {
				t.Errorf("error = %q, want it to name the secret and say %q", err, tt.wantErr)
			}
			if ue.Wait < time.Second {
				t.Errorf("RetryAfter = %v, want at least 1s", ue.Wait)
			}
			if strings.Contains(err.Error(), value) || strings.Contains(f.logs.String(), value) {
				t.Errorf("the value leaked:\nerror: %v\nlogs: %s", err, f.logs)
			}
			if !strings.Contains(f.logs.String(), "reason=invalid_value") {
				t.Errorf("logs do not report invalid_value:\n%s", f.logs)
			}
		})
	}
}

func TestCacheColdConcurrentMissesMakeOneCall(t *testing.T) {
	f := newFixture(t)
	f.sm.Put("intercom/ios", "ios-value")
	f.sm.Put("intercom/keys", `{"android":"android-value","web":"web-value"}`)
	// A slow answer keeps every request in flight together.
	f.sm.Delay("", 100*time.Millisecond)

	refs := []struct {
		ref  secrets.Ref
		want string
	}{
		{secrets.Ref{ID: "intercom/ios"}, "ios-value"},
		{secrets.Ref{ID: "intercom/keys", Key: "android"}, "android-value"},
		{secrets.Ref{ID: "intercom/keys", Key: "web"}, "web-value"},
	}
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n*len(refs))
	for i := range n {
		r := refs[i%len(refs)]
		wg.Go(func() {
			got, err := f.cache.Get(context.Background(), r.ref)
			if err != nil {
				errs <- err
			} else if string(got) != r.want {
				errs <- errors.New("Get(" + r.ref.String() + ") = " + string(got) + ", want " + r.want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, id := range []string{"intercom/ios", "intercom/keys"} {
		if got := f.sm.Calls(id); got != 1 {
			t.Errorf("GetSecretValue calls for %s after %d concurrent cold Gets = %d, want 1", id, n, got)
		}
	}
}

// TestCacheLateJoinersDoNotRefetch starts Gets all through a fetch, so
// that some find the value expired just before the fetch stores the new
// one and ask for a flight just after it ended: they must not call again.
func TestCacheLateJoinersDoNotRefetch(t *testing.T) {
	f := newFixture(t)
	f.sm.Put("s", "v")
	ref := secrets.Ref{ID: "s"}
	for round := range 20 {
		var wg sync.WaitGroup
		for range 200 {
			wg.Go(func() {
				if _, err := f.cache.Get(context.Background(), ref); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got, want := f.sm.Calls("s"), round+1; got != want {
			t.Fatalf("round %d: calls = %d, want %d", round, got, want)
		}
		f.clock.Advance(testTTL)
	}
}

func TestCacheExpiryAndRotation(t *testing.T) {
	f := newFixture(t)
	f.sm.Put("s", "v1")
	ref := secrets.Ref{ID: "s"}
	ctx := context.Background()

	steps := []struct {
		name      string
		advance   time.Duration
		rotate    string // a new value to put first, if any
		want      string
		wantCalls int
	}{
		{name: "cold", want: "v1", wantCalls: 1},
		{name: "fresh is a hit", advance: time.Minute, want: "v1", wantCalls: 1},
		{name: "rotation is not seen before the TTL", advance: testTTL - time.Minute - time.Nanosecond, rotate: "v2", want: "v1", wantCalls: 1},
		{name: "at the TTL the rotated value is fetched", advance: time.Nanosecond, want: "v2", wantCalls: 2},
		{name: "and then served from memory", advance: testTTL - time.Nanosecond, want: "v2", wantCalls: 2},
		{name: "next TTL refreshes again", advance: time.Nanosecond, want: "v2", wantCalls: 3},
	}
	for _, s := range steps {
		f.clock.Advance(s.advance)
		if s.rotate != "" {
			f.sm.Put("s", s.rotate)
		}
		for range 50 {
			got, err := f.cache.Get(ctx, ref)
			if err != nil {
				t.Fatalf("%s: Get: %v", s.name, err)
			}
			if string(got) != s.want {
				t.Fatalf("%s: Get = %q, want %q", s.name, got, s.want)
			}
		}
		if got := f.sm.Calls("s"); got != s.wantCalls {
			t.Fatalf("%s: GetSecretValue calls = %d, want %d", s.name, got, s.wantCalls)
		}
	}
}

func TestCacheJitterOnlyLengthensTheTTL(t *testing.T) {
	f := newFixture(t, secrets.WithJitter(0.1))
	f.sm.Put("s", "v")
	ctx := context.Background()
	ref := secrets.Ref{ID: "s"}
	if _, err := f.cache.Get(ctx, ref); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(testTTL - time.Nanosecond)
	if _, err := f.cache.Get(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if got := f.sm.Calls("s"); got != 1 {
		t.Fatalf("calls just before the TTL = %d, want 1: jitter must never shorten the TTL", got)
	}
	f.clock.Advance(testTTL/10 + time.Nanosecond)
	if _, err := f.cache.Get(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if got := f.sm.Calls("s"); got != 2 {
		t.Fatalf("calls after TTL plus 10%% = %d, want 2: jitter is at most 10%%", got)
	}
}

// TestCacheOutage warms the cache, breaks Secrets Manager in each way it
// breaks, and checks that the stale value is served until SECRET_MAX_STALE
// and that the failure is reported as what it is.
func TestCacheOutage(t *testing.T) {
	const value = "stale-but-good-value"
	tests := []struct {
		name       string
		breakIt    func(sm *awsfake.SecretsManager)
		wantReason string
		wantLog    string
	}{
		{name: "throttling", breakIt: func(sm *awsfake.SecretsManager) { sm.Fail("s", awsfake.SMThrottling) }, wantReason: secrets.ReasonThrottled, wantLog: "aws_error=ThrottlingException"},
		{name: "InternalServiceError 500", breakIt: func(sm *awsfake.SecretsManager) { sm.Fail("s", awsfake.SMInternalServiceError) }, wantReason: secrets.ReasonServerError, wantLog: "aws_error=InternalServiceError"},
		{name: "unmodeled 503", breakIt: func(sm *awsfake.SecretsManager) { sm.Fail("s", awsfake.SMServiceUnavailable) }, wantReason: secrets.ReasonServerError, wantLog: "StatusCode: 503"},
		{name: "secret deleted", breakIt: func(sm *awsfake.SecretsManager) { sm.Delete("s") }, wantReason: secrets.ReasonNotFound, wantLog: "aws_error=ResourceNotFoundException"},
		{name: "KMS decryption failure", breakIt: func(sm *awsfake.SecretsManager) { sm.Fail("s", awsfake.SMDecryptionFailure) }, wantReason: secrets.ReasonDecryptionFailure, wantLog: "aws_error=DecryptionFailure"},
		{name: "access denied", breakIt: func(sm *awsfake.SecretsManager) { sm.Fail("s", awsfake.SMAccessDenied) }, wantReason: secrets.ReasonAccessDenied, wantLog: "aws_error=AccessDeniedException"},
		{name: "rotated to an empty value", breakIt: func(sm *awsfake.SecretsManager) { sm.Put("s", "") }, wantReason: secrets.ReasonInvalidValue, wantLog: "SecretString is empty"},
		{name: "hung endpoint", breakIt: func(sm *awsfake.SecretsManager) { sm.Hang("s", true) }, wantReason: secrets.ReasonTimeout, wantLog: "GetSecretValue timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, secrets.WithAttemptTimeout(200*time.Millisecond))
			f.sm.Put("s", value)
			// A backstop: TestCacheSlowEndpoint is the test of the bound.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ref := secrets.Ref{ID: "s"}
			if _, err := f.cache.Get(ctx, ref); err != nil {
				t.Fatalf("warm-up Get: %v", err)
			}
			tt.breakIt(f.sm)

			// Past the TTL the refresh fails; the stale value is served,
			// and so it is on every request until SECRET_MAX_STALE.
			f.clock.Advance(testTTL)
			for _, advance := range []time.Duration{0, testBackoffMax, testMaxStale - testBackoffMax - time.Nanosecond} {
				f.clock.Advance(advance)
				got, err := f.cache.Get(ctx, ref)
				if err != nil || string(got) != value {
					t.Fatalf("%v past the TTL: Get = %q, %v; want the stale value", f.clock.Now().Sub(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))-testTTL, got, err)
				}
			}
			if got := f.events.count(secrets.EventStale); got != 3 {
				t.Errorf("stale serves = %d, want 3", got)
			}
			logs := f.logs.String()
			if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "reason="+tt.wantReason) || !strings.Contains(logs, tt.wantLog) || !strings.Contains(logs, "serving_stale=true") {
				t.Errorf("logs do not report a %s failure served stale (want %q):\n%s", tt.wantReason, tt.wantLog, logs)
			}

			// Past SECRET_MAX_STALE there is no usable value.
			f.clock.Advance(testBackoffMax + time.Nanosecond)
			got, err := f.cache.Get(ctx, ref)
			var ue *secrets.UnavailableError
			if !errors.As(err, &ue) {
				t.Fatalf("past max stale: Get = %q, %v; want an *UnavailableError", got, err)
			}
			if ue.Reason != tt.wantReason || ue.SecretID != "s" {
				t.Errorf("UnavailableError = {SecretID: %q, Reason: %q}, want {s, %s}", ue.SecretID, ue.Reason, tt.wantReason)
			}
			if ue.Wait < time.Second || ue.Wait%time.Second != 0 || ue.Wait > testBackoffMax {
				t.Errorf("RetryAfter = %v, want whole seconds between 1s and %v", ue.Wait, testBackoffMax)
			}
			if strings.Contains(f.logs.String(), value) || strings.Contains(err.Error(), value) {
				t.Errorf("the value leaked into logs or error:\n%v\n%s", err, f.logs)
			}
			// One call for the warm-up and one per refresh: the SDK must not
			// retry on its own, multiplying calls to a struggling service.
			if got := f.sm.Calls("s"); got != 5 {
				t.Errorf("GetSecretValue calls = %d, want 5 (warm-up and four refreshes)", got)
			}
			if got := f.sm.OtherCalls(); len(got) != 0 {
				t.Errorf("operations other than GetSecretValue were called: %v", got)
			}
		})
	}
}

func TestCacheRecoversAfterOutage(t *testing.T) {
	f := newFixture(t)
	f.sm.Put("s", "v1")
	ctx := context.Background()
	ref := secrets.Ref{ID: "s"}
	if _, err := f.cache.Get(ctx, ref); err != nil {
		t.Fatal(err)
	}
	f.sm.Fail("s", awsfake.SMThrottling)
	f.clock.Advance(testTTL)
	for range 3 { // three failures: the backoff grows to 4s
		if _, err := f.cache.Get(ctx, ref); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(testBackoffMax)
	}
	f.sm.Fail("s", nil)
	f.sm.Put("s", "v2")
	got, err := f.cache.Get(ctx, ref)
	if err != nil || string(got) != "v2" {
		t.Fatalf("after recovery: Get = %q, %v; want v2", got, err)
	}
	if !strings.Contains(f.logs.String(), "secret fetched again after failures") {
		t.Errorf("recovery not logged:\n%s", f.logs)
	}
	// A success resets the backoff: the next failure waits the first step.
	f.sm.Fail("s", awsfake.SMThrottling)
	f.clock.Advance(testTTL)
	_, _ = f.cache.Get(ctx, ref)
	calls := f.sm.Calls("s")
	f.clock.Advance(testBackoffMin)
	_, _ = f.cache.Get(ctx, ref)
	if got := f.sm.Calls("s"); got != calls+1 {
		t.Errorf("calls one first backoff after the failure = %d, want %d: backoff not reset by the success", got, calls+1)
	}
}

// TestCacheBackoff hammers a missing secret and checks that it costs at
// most one call per backoff interval, that the interval doubles up to its
// cap, and that Retry-After says when the next call will be.
func TestCacheBackoff(t *testing.T) {
	f := newFixture(t, secrets.WithBackoff(time.Second, 8*time.Second))
	ctx := context.Background()
	ref := secrets.Ref{ID: "missing"}

	hammer := func() *secrets.UnavailableError {
		t.Helper()
		var wg sync.WaitGroup
		var mu sync.Mutex
		var last *secrets.UnavailableError
		for range 200 {
			wg.Go(func() {
				_, err := f.cache.Get(ctx, ref)
				var ue *secrets.UnavailableError
				if !errors.As(err, &ue) {
					t.Errorf("Get of a missing secret = %v, want an *UnavailableError", err)
					return
				}
				mu.Lock()
				last = ue
				mu.Unlock()
			})
		}
		wg.Wait()
		return last
	}

	steps := []struct {
		advance        time.Duration
		wantCalls      int
		wantRetryAfter time.Duration
	}{
		{advance: 0, wantCalls: 1, wantRetryAfter: time.Second},
		{advance: time.Second - time.Millisecond, wantCalls: 1, wantRetryAfter: time.Second},
		{advance: time.Millisecond, wantCalls: 2, wantRetryAfter: 2 * time.Second},
		{advance: 1500 * time.Millisecond, wantCalls: 2, wantRetryAfter: time.Second},
		{advance: 500 * time.Millisecond, wantCalls: 3, wantRetryAfter: 4 * time.Second},
		{advance: 4 * time.Second, wantCalls: 4, wantRetryAfter: 8 * time.Second},
		{advance: 8 * time.Second, wantCalls: 5, wantRetryAfter: 8 * time.Second}, // capped
		{advance: 7 * time.Second, wantCalls: 5, wantRetryAfter: time.Second},
		{advance: time.Second, wantCalls: 6, wantRetryAfter: 8 * time.Second},
	}
	for i, s := range steps {
		f.clock.Advance(s.advance)
		ue := hammer()
		if ue == nil {
			t.Fatalf("step %d: no error", i)
		}
		if got := f.sm.Calls("missing"); got != s.wantCalls {
			t.Errorf("step %d: calls = %d, want %d", i, got, s.wantCalls)
		}
		if ue.Reason != secrets.ReasonNotFound {
			t.Errorf("step %d: Reason = %q, want %q", i, ue.Reason, secrets.ReasonNotFound)
		}
		if ue.Wait != s.wantRetryAfter {
			t.Errorf("step %d: RetryAfter = %v, want %v", i, ue.Wait, s.wantRetryAfter)
		}
	}
	if got, want := strings.Count(f.logs.String(), "secret not found in Secrets Manager"), 6; got != want {
		t.Errorf("failure log lines = %d, want one per call (%d):\n%s", got, want, f.logs)
	}
}

// TestCacheSlowEndpoint checks that a hung Secrets Manager is cut off by
// the attempt timeout, and that a caller whose deadline is sooner stops
// waiting then while the call runs on to the attempt timeout.
func TestCacheSlowEndpoint(t *testing.T) {
	tests := []struct {
		name           string
		attemptTimeout time.Duration
		ctxTimeout     time.Duration // 0: no deadline
	}{
		{name: "attempt timeout", attemptTimeout: 100 * time.Millisecond},
		{name: "caller's deadline sooner than the attempt timeout", attemptTimeout: 300 * time.Millisecond, ctxTimeout: 50 * time.Millisecond},
	}
	// A backstop against a hung test, not a measure of speed.
	const backstop = 30 * time.Second
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, secrets.WithAttemptTimeout(tt.attemptTimeout))
			f.sm.Put("s", "v")
			f.sm.Hang("s", true)
			ctx := context.Background()
			if tt.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
				defer cancel()
			}
			err := getWithin(t, backstop, f.cache, ctx, secrets.Ref{ID: "s"})
			var ue *secrets.UnavailableError
			if !errors.As(err, &ue) || ue.Reason != secrets.ReasonTimeout {
				t.Fatalf("Get = %v, want an *UnavailableError with reason timeout", err)
			}
			// The call itself must end too, not only the wait for it: a
			// call left running when the invocation returns is frozen
			// with the execution environment. The attempt timeout ends it.
			waitFor(t, backstop, "the GetSecretValue call to end", func() bool { return f.events.count(secrets.EventFetchError) > 0 })
			if !strings.Contains(f.logs.String(), "GetSecretValue timed out") {
				t.Errorf("the hung call is not logged as a timeout:\n%s", f.logs)
			}
		})
	}
}

// TestCacheCallerGivingUpDoesNotFailTheFetch: the caller whose request
// started a fetch gives up mid-call, by its deadline or by cancellation,
// while another request waits on the same fetch. The fetch is theirs
// together: it goes on, the waiter gets the secret, and since Secrets
// Manager did not fail, nothing is logged as a failure and no backoff is
// armed.
func TestCacheCallerGivingUpDoesNotFailTheFetch(t *testing.T) {
	tests := []struct {
		name    string
		leader  func() (context.Context, context.CancelFunc)
		giveUp  func(cancel context.CancelFunc) // called once the call is in flight
		wantWhy string
	}{
		{
			name: "its deadline passes",
			leader: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 20*time.Millisecond)
			},
			giveUp:  func(context.CancelFunc) {},
			wantWhy: secrets.ReasonTimeout,
		},
		{
			name:    "it is canceled",
			leader:  func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) },
			giveUp:  func(cancel context.CancelFunc) { cancel() },
			wantWhy: secrets.ReasonCanceled,
		},
	}
	const backstop = 30 * time.Second
	type result struct {
		val []byte
		err error
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Only the gate ends the call; the attempt timeout is out of
			// the way.
			f := newFixture(t, secrets.WithAttemptTimeout(time.Hour))
			f.sm.Put("s", "the-value")
			open := f.sm.Hold("s")
			defer open()
			ref := secrets.Ref{ID: "s"}

			leaderCtx, cancel := tt.leader()
			defer cancel()
			leader := make(chan result, 1)
			go func() {
				v, err := f.cache.Get(leaderCtx, ref)
				leader <- result{v, err}
			}()
			waitFor(t, backstop, "the leader's call to reach Secrets Manager", func() bool { return f.sm.Calls("s") == 1 })
			tt.giveUp(cancel)
			var lr result
			select {
			case lr = <-leader:
			case <-time.After(backstop):
				t.Fatal("the leader did not give up")
			}
			var ue *secrets.UnavailableError
			if !errors.As(lr.err, &ue) || ue.Reason != tt.wantWhy {
				t.Fatalf("leader's Get = %q, %v; want an *UnavailableError with reason %s", lr.val, lr.err, tt.wantWhy)
			}

			// The waiter arrives while the call is still held, and joins it.
			waiter := make(chan result, 1)
			go func() {
				v, err := f.cache.Get(context.Background(), ref)
				waiter <- result{v, err}
			}()
			// Let it reach the flight before the call ends. (Were it late,
			// it would find the value cached; the checks hold either way.)
			waitFor(t, backstop, "the waiter to ask", func() bool { return f.events.count(secrets.EventMiss) >= 2 || len(waiter) > 0 })
			open()
			var wr result
			select {
			case wr = <-waiter:
			case <-time.After(backstop):
				t.Fatal("the waiter never got an answer")
			}
			if wr.err != nil || string(wr.val) != "the-value" {
				t.Fatalf("waiter's Get = %q, %v; want the secret: one caller's giving up must not fail the fetch for the others", wr.val, wr.err)
			}
			if got := f.sm.Calls("s"); got != 1 {
				t.Errorf("GetSecretValue calls = %d, want 1: the waiter shares the leader's call", got)
			}
			if got := f.events.count(secrets.EventFetchError); got != 0 {
				t.Errorf("fetch errors = %d, want 0: Secrets Manager did not fail\n%s", got, f.logs)
			}
			// No backoff: once the value expires, the next Get fetches at
			// once (with a backoff armed it would be refused without a call).
			f.clock.Advance(testTTL)
			if v, err := f.cache.Get(context.Background(), ref); err != nil || string(v) != "the-value" {
				t.Errorf("Get after the TTL = %q, %v; want the secret", v, err)
			}
			if got := f.sm.Calls("s"); got != 2 {
				t.Errorf("GetSecretValue calls after the TTL = %d, want 2", got)
			}
		})
	}
}

// waitFor polls cond until it holds, and fails the test if it does not
// within backstop: a guard against a hung test, not a measure of speed.
func waitFor(t *testing.T, backstop time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(backstop)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %v", what, backstop)
		}
		time.Sleep(time.Millisecond)
	}
}

// getWithin calls Get and fails the test if it has not returned within d,
// rather than letting a hung call hang the test binary.
func getWithin(t *testing.T, d time.Duration, c *secrets.Cache, ctx context.Context, ref secrets.Ref) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := c.Get(ctx, ref)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("Get(%s) did not return within %v", ref, d)
		return nil
	}
}

func TestCacheWaitersStopAtTheirOwnDeadline(t *testing.T) {
	f := newFixture(t, secrets.WithAttemptTimeout(time.Minute))
	f.sm.Put("s", "v")
	f.sm.Hang("s", true)
	ref := secrets.Ref{ID: "s"}

	// The leader has no deadline; the waiter joins its flight and must
	// still give up at its own.
	leaderDone := make(chan struct{})
	leaderCtx, stopLeader := context.WithCancel(context.Background())
	go func() {
		defer close(leaderDone)
		_, _ = f.cache.Get(leaderCtx, ref)
	}()
	for f.sm.Calls("s") == 0 {
		time.Sleep(time.Millisecond) // wait for the leader's call to arrive
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := getWithin(t, 2*time.Second, f.cache, ctx, ref)
	var ue *secrets.UnavailableError
	if !errors.As(err, &ue) || ue.Reason != secrets.ReasonTimeout {
		t.Errorf("waiter's Get = %v, want an *UnavailableError with reason timeout", err)
	}
	if got := f.sm.Calls("s"); got != 1 {
		t.Errorf("calls = %d, want 1: the waiter must join the leader's flight", got)
	}
	stopLeader()
	f.sm.Release()
	<-leaderDone
}

func TestCachePrefetch(t *testing.T) {
	t.Run("without BatchGetSecretValue, fetches in parallel, then serves from memory", func(t *testing.T) {
		// The fake answers no call until all three are in flight at once:
		// fetched one after another, the first would wait for the others
		// until its attempt timed out, and the prefetch would fail.
		f := newFixture(t)
		f.sm.Put("a", "va")
		f.sm.Put("b", `{"android":"vb","web":"vw"}`)
		f.sm.Put("c", "vc")
		url := startBarrier(t, f.sm, 3)
		f.cache = secrets.NewCache(getOnly{newClient(url)}, secrets.WithAttemptTimeout(time.Minute),
			secrets.WithClock(f.clock.Now), secrets.WithObserver(f.events.observe),
			secrets.WithLogger(slog.New(slog.NewTextHandler(f.logs, nil))))
		refs := []secrets.Ref{{ID: "a"}, {ID: "b", Key: "android"}, {ID: "b", Key: "web"}, {ID: "c"}}

		f.cache.Prefetch(context.Background(), refs...)
		if got := f.events.count(secrets.EventFetch); got != 3 {
			t.Fatalf("fetches = %d, want 3, one per secret ID, all in flight together; log:\n%s", got, f.logs)
		}
		for _, r := range refs {
			if _, err := f.cache.Get(context.Background(), r); err != nil {
				t.Errorf("Get(%s) after Prefetch: %v", r, err)
			}
		}
		if got := f.sm.TotalCalls(); got != 3 {
			t.Errorf("calls = %d, want 3: one per secret ID, none after Prefetch", got)
		}
		if got := f.events.count(secrets.EventHit); got != len(refs) {
			t.Errorf("hits = %d, want %d", got, len(refs))
		}
	})

	t.Run("a failure is logged and retried on the first request", func(t *testing.T) {
		f := newFixture(t)
		f.sm.Fail("s", awsfake.SMServiceUnavailable)
		f.cache.Prefetch(context.Background(), secrets.Ref{ID: "s"})
		if !strings.Contains(f.logs.String(), "level=ERROR") || !strings.Contains(f.logs.String(), "reason=server_error") {
			t.Errorf("Prefetch failure not logged:\n%s", f.logs)
		}
		f.sm.Fail("s", nil)
		f.sm.Put("s", "v")
		got, err := f.cache.Get(context.Background(), secrets.Ref{ID: "s"})
		if err != nil || string(got) != "v" {
			t.Fatalf("first Get after a failed Prefetch = %q, %v; want v (no backoff from init)", got, err)
		}
		if got := f.sm.Calls("s"); got != 2 {
			t.Errorf("calls = %d, want 2", got)
		}
	})

	t.Run("a missing key is reported at init", func(t *testing.T) {
		f := newFixture(t)
		f.sm.Put("s", `{"android":"x"}`)
		f.cache.Prefetch(context.Background(), secrets.Ref{ID: "s", Key: "ios"})
		if !strings.Contains(f.logs.String(), `the SecretString has no field \"ios\"`) {
			t.Errorf("missing key not logged at Prefetch:\n%s", f.logs)
		}
	})
}

// startBarrier serves next on a loopback server that holds every
// GetSecretValue request until n are in flight at once, then lets them all
// through; requests after those, and other operations, pass at once. It
// returns the server's URL.
func startBarrier(t *testing.T, next http.Handler, n int) string {
	t.Helper()
	var mu sync.Mutex
	arrived, open := 0, make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
			next.ServeHTTP(w, r)
			return
		}
		mu.Lock()
		if arrived++; arrived == n {
			close(open)
		}
		mu.Unlock()
		select {
		case <-open:
			next.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestCacheEvents(t *testing.T) {
	f := newFixture(t)
	f.sm.Put("s", "v")
	ctx := context.Background()
	ref := secrets.Ref{ID: "s"}
	_, _ = f.cache.Get(ctx, ref) // miss, fetch
	_, _ = f.cache.Get(ctx, ref) // hit
	f.sm.Fail("s", awsfake.SMThrottling)
	f.clock.Advance(testTTL)
	_, _ = f.cache.Get(ctx, ref) // miss, fetch_error, stale
	_, _ = f.cache.Get(ctx, ref) // stale (backing off)
	f.clock.Advance(testTTL + testMaxStale)
	_, _ = f.cache.Get(ctx, ref) // miss, fetch_error, unavailable

	want := map[secrets.EventKind]int{
		secrets.EventHit: 1, secrets.EventMiss: 3, secrets.EventFetch: 1,
		secrets.EventFetchError: 2, secrets.EventStale: 2, secrets.EventUnavailable: 1,
	}
	for k, n := range want {
		if got := f.events.count(k); got != n {
			t.Errorf("%s events = %d, want %d", k, got, n)
		}
	}
}

func TestCacheMaxStaleZeroServesNoStaleValue(t *testing.T) {
	f := newFixture(t, secrets.WithMaxStale(0))
	f.sm.Put("s", "v")
	ctx := context.Background()
	if _, err := f.cache.Get(ctx, secrets.Ref{ID: "s"}); err != nil {
		t.Fatal(err)
	}
	f.sm.Fail("s", awsfake.SMInternalServiceError)
	f.clock.Advance(testTTL)
	got, err := f.cache.Get(ctx, secrets.Ref{ID: "s"})
	var ue *secrets.UnavailableError
	if !errors.As(err, &ue) {
		t.Fatalf("Get = %q, %v; want an *UnavailableError with SECRET_MAX_STALE=0", got, err)
	}
}
