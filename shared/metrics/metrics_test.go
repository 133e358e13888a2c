package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/internal/logtest"
	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/metrics"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

var epoch = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// find returns the data points named name with exactly dims.
func find(points []datum, name, dims string) []datum {
	var out []datum
	for _, p := range points {
		if p.Name == name && p.Dims == dims {
			out = append(out, p)
		}
	}
	return out
}

func TestRequestLine(t *testing.T) {
	const fn = "FunctionName=userhash-prod-UserHashFunction"
	tests := []struct {
		name    string
		outcome httpapi.Outcome
		want    []datum // a subset of the line's points
	}{
		{
			name:    "success",
			outcome: httpapi.Outcome{Platform: platform.IOS, Code: httpapi.CodeOK, Status: 200, Duration: 1234567 * time.Nanosecond},
			want: []datum{
				{Name: "Requests", Unit: "Count", Dims: fn + ",Outcome=ok,Platform=ios", Value: 1},
				{Name: "Requests", Unit: "Count", Dims: fn + ",Outcome=ok", Value: 1},
				{Name: "Latency", Unit: "Milliseconds", Dims: fn, Value: 1.235},
				{Name: "Latency", Unit: "Milliseconds", Dims: fn + ",Outcome=ok", Value: 1.235},
				{Name: "AuthFailures", Unit: "Count", Dims: fn, Value: 0},
				{Name: "AuthFailures", Unit: "Count", Dims: fn + ",Platform=ios", Value: 0},
			},
		},
		{
			name:    "wrong password counts as an auth failure",
			outcome: httpapi.Outcome{Platform: platform.Android, Code: httpapi.CodeUnauthenticated, Status: 401, Duration: 80 * time.Millisecond},
			want: []datum{
				{Name: "Requests", Unit: "Count", Dims: fn + ",Outcome=unauthenticated,Platform=android", Value: 1},
				{Name: "AuthFailures", Unit: "Count", Dims: fn, Value: 1},
				{Name: "AuthFailures", Unit: "Count", Dims: fn + ",Platform=android", Value: 1},
				{Name: "Latency", Unit: "Milliseconds", Dims: fn, Value: 80},
			},
		},
		{
			name:    "a challenge is an auth failure too",
			outcome: httpapi.Outcome{Platform: platform.Web, Code: httpapi.CodeChallengeRequired, Status: 401},
			want: []datum{
				{Name: "AuthFailures", Unit: "Count", Dims: fn + ",Platform=web", Value: 1},
			},
		},
		{
			name:    "a request refused before its platform is known has the platform none",
			outcome: httpapi.Outcome{Code: httpapi.CodeInvalidRequest, Status: 400, Duration: 50 * time.Microsecond},
			want: []datum{
				{Name: "Requests", Unit: "Count", Dims: fn + ",Outcome=invalid_request,Platform=none", Value: 1},
				{Name: "AuthFailures", Unit: "Count", Dims: fn + ",Platform=none", Value: 0},
				{Name: "Latency", Unit: "Milliseconds", Dims: fn + ",Outcome=invalid_request", Value: 0.05},
			},
		},
		{
			name:    "an outcome with no code still has a dimension value",
			outcome: httpapi.Outcome{Platform: platform.IOS, Status: 500},
			want: []datum{
				{Name: "Requests", Unit: "Count", Dims: fn + ",Outcome=unknown,Platform=ios", Value: 1},
			},
		},
		{
			name:    "a negative duration from a clock step is zero",
			outcome: httpapi.Outcome{Platform: platform.IOS, Code: httpapi.CodeOK, Status: 200, Duration: -time.Second},
			want: []datum{
				{Name: "Latency", Unit: "Milliseconds", Dims: fn, Value: 0},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			rec := metrics.New(&out,
				metrics.WithFunctionName("userhash-prod-UserHashFunction"),
				metrics.WithClock(func() time.Time { return epoch }))
			rec.Request(tt.outcome)

			ts, points, err := parseEMF(bytes.TrimSuffix(out.Bytes(), []byte("\n")))
			if err != nil {
				t.Fatalf("not EMF: %v\n%s", err, out.String())
			}
			if ts != epoch.UnixMilli() {
				t.Errorf("Timestamp = %d, want %d", ts, epoch.UnixMilli())
			}
			for _, w := range tt.want {
				w.Namespace = metrics.DefaultNamespace
				got := find(points, w.Name, w.Dims)
				if len(got) != 1 || got[0] != w {
					t.Errorf("points %s{%s} = %v, want [%v]", w.Name, w.Dims, got, w)
				}
			}
			// Each dimension set is a billed metric: the line makes exactly
			// the designed ones, 6 per request and 6 for the cache.
			if got, want := len(points), 12; got != want {
				t.Errorf("the line has %d data points, want %d: %v", got, want, points)
			}
		})
	}
}

func TestLineIsOneWriteEndingInANewline(t *testing.T) {
	var out logtest.Buffer
	rec := metrics.New(&out)
	rec.Request(httpapi.Outcome{Platform: platform.IOS, Code: httpapi.CodeOK, Status: 200})
	if out.Writes() != 1 {
		t.Errorf("the line took %d writes, want 1 (CloudWatch Logs splits on writes and newlines)", out.Writes())
	}
	if got := out.String(); strings.Count(got, "\n") != 1 || !strings.HasSuffix(got, "\n") {
		t.Errorf("output %q, want one line ending in a newline", got)
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name     string
		opts     []metrics.Option
		wantNS   string
		wantDims string // of the Requests point by outcome only
	}{
		{name: "defaults", wantNS: "IntercomUserHash", wantDims: "Outcome=ok"},
		{name: "namespace", opts: []metrics.Option{metrics.WithNamespace("Acme/UserHash")}, wantNS: "Acme/UserHash", wantDims: "Outcome=ok"},
		{name: "an empty namespace leaves the default", opts: []metrics.Option{metrics.WithNamespace("")}, wantNS: "IntercomUserHash", wantDims: "Outcome=ok"},
		{name: "an empty function name is left out", opts: []metrics.Option{metrics.WithFunctionName("")}, wantNS: "IntercomUserHash", wantDims: "Outcome=ok"},
		{
			name:     "a function name given twice keeps the last",
			opts:     []metrics.Option{metrics.WithFunctionName("a"), metrics.WithFunctionName("b")},
			wantNS:   "IntercomUserHash",
			wantDims: "FunctionName=b,Outcome=ok",
		},
		{
			name:     "the function name is escaped and made valid UTF-8",
			opts:     []metrics.Option{metrics.WithFunctionName("a\"b\\c\n\x00\xff\u2028é")},
			wantNS:   "IntercomUserHash",
			wantDims: "FunctionName=a\"b\\c\n\x00\ufffd\u2028é,Outcome=ok",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			metrics.New(&out, tt.opts...).Request(httpapi.Outcome{Platform: platform.IOS, Code: httpapi.CodeOK, Status: 200})
			_, points, err := parseEMF(bytes.TrimSuffix(out.Bytes(), []byte("\n")))
			if err != nil {
				t.Fatalf("not EMF: %v\n%s", err, out.String())
			}
			got := find(points, "Requests", tt.wantDims)
			if len(got) != 1 || got[0].Namespace != tt.wantNS {
				t.Errorf("Requests{%s} = %v, want one point in namespace %s; all: %v", tt.wantDims, got, tt.wantNS, points)
			}
		})
	}
}

// TestSecretCacheEvents drives the real cache, over the real Secrets
// Manager client and the fake, through a cold start, a hit, an outage with
// stale serving and an outage with nothing to serve, and reads the counts
// each request's line carries.
func TestSecretCacheEvents(t *testing.T) {
	sm := awsfake.NewSecretsManager()
	sm.Put("intercom/ios", "ios-secret")
	sm.Put("intercom/android", "android-secret")
	url := sm.Start(t)
	now := epoch
	clock := func() time.Time { return now }

	var out logtest.Buffer
	rec := metrics.New(&out, metrics.WithClock(clock))
	client := secrets.NewClient(awsfake.Config(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(url) })
	cache := secrets.NewCache(client,
		secrets.WithTTL(time.Minute), secrets.WithMaxStale(time.Minute), secrets.WithJitter(0),
		secrets.WithBackoff(time.Second, time.Second), secrets.WithClock(clock),
		secrets.WithLogger(slog.New(slog.DiscardHandler)),
		secrets.WithObserver(rec.SecretEvent))
	src := &secrets.Platforms{Cache: cache, Refs: map[platform.Platform]secrets.Ref{
		platform.IOS:     {ID: "intercom/ios"},
		platform.Android: {ID: "intercom/android"},
	}}
	h := httpapi.New(src, []platform.Platform{platform.IOS, platform.Android}, httpapi.WithObserver(rec.Request))
	call := func(p string) {
		t.Helper()
		resp, _ := h.Handle(context.Background(), jwtEvent(p, map[string]string{"sub": "u-1"}))
		if resp.StatusCode == 0 {
			t.Fatal("no response")
		}
	}

	src.Prefetch(context.Background()) // the cold start: two fetches, no line yet
	if out.String() != "" {
		t.Fatalf("a prefetch wrote a line by itself: %s", out.String())
	}
	call("ios") // a hit; the line carries the prefetch's two fetches
	call("ios") // a hit
	now = now.Add(90 * time.Second)
	sm.Fail("intercom/ios", awsfake.SMThrottling)
	call("ios") // expired: a miss, a failed fetch, a stale serve
	now = now.Add(2 * time.Minute)
	call("ios") // past max stale, backoff over: a miss, a failed fetch, unavailable (503)

	lines, err := parseLines(out.String())
	if err != nil {
		t.Fatal(err)
	}
	type counts struct{ hits, misses, stale, fetches, fetchErrors, unavailable float64 }
	want := []counts{
		{hits: 1, fetches: 2},
		{hits: 1},
		{misses: 1, fetchErrors: 1, stale: 1},
		{misses: 1, fetchErrors: 1, unavailable: 1},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	value := func(points []datum, name string) float64 {
		got := find(points, name, "")
		if len(got) != 1 {
			t.Fatalf("points %s = %v, want one", name, got)
		}
		return got[0].Value
	}
	for i, points := range lines {
		got := counts{
			hits:        value(points, "SecretCacheHits"),
			misses:      value(points, "SecretCacheMisses"),
			stale:       value(points, "SecretStaleServes"),
			fetches:     value(points, "SecretFetches"),
			fetchErrors: value(points, "SecretFetchErrors"),
			unavailable: value(points, "SecretUnavailable"),
		}
		if got != want[i] {
			t.Errorf("line %d: cache counts %+v, want %+v", i+1, got, want[i])
		}
	}
	if got := find(lines[3], "Requests", "Outcome=secret_unavailable"); len(got) != 1 {
		t.Errorf("the last request's line has no Requests{Outcome=secret_unavailable}: %v", lines[3])
	}
}

func TestFlush(t *testing.T) {
	var out bytes.Buffer
	rec := metrics.New(&out, metrics.WithFunctionName("fn"))
	rec.Flush()
	if out.Len() != 0 {
		t.Fatalf("Flush with nothing counted wrote %q, want nothing", out.String())
	}
	rec.SecretEvent(secrets.Event{Kind: secrets.EventFetchError, SecretID: "intercom/ios", Reason: secrets.ReasonThrottled})
	rec.SecretEvent(secrets.Event{Kind: secrets.EventKind(99)}) // a kind from a newer cache: ignored
	rec.Flush()
	lines, err := parseLines(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 {
		t.Fatalf("Flush wrote %d lines, want 1", len(lines))
	}
	if got := find(lines[0], "SecretFetchErrors", "FunctionName=fn"); len(got) != 1 || got[0].Value != 1 {
		t.Errorf("SecretFetchErrors = %v, want one point of 1", got)
	}
	if got := find(lines[0], "Requests", "FunctionName=fn,Outcome=ok"); len(got) != 0 {
		t.Errorf("a flush line has request metrics: %v", got)
	}
	out.Reset()
	rec.Flush()
	if out.Len() != 0 {
		t.Errorf("a second Flush wrote %q, want nothing: the counts went out with the first", out.String())
	}
}

// TestNoIdentifierInMetrics runs the real handler with identities and
// platforms chosen to stand out, and checks that no line carries them, nor
// the hash, nor the JWT, nor the raw platform a client sent.
func TestNoIdentifierInMetrics(t *testing.T) {
	var out logtest.Buffer
	rec := metrics.New(&out)
	src := secrets.Static{platform.IOS: []byte("s3cr3t-ios-value")}
	h := httpapi.New(src, []platform.Platform{platform.IOS}, httpapi.WithObserver(rec.Request))

	secretsSeen := []string{"s3cr3t-ios-value"}
	for _, ev := range []events.APIGatewayV2HTTPRequest{
		jwtEvent("iPhone", map[string]string{"sub": "user-9f8e7d", "email": "zed.unique@example.com", "email_verified": "true"}),
		jwtEvent("IPAD", map[string]string{"email": "only.email.unique@example.com", "email_verified": "true"}),
		jwtEvent("Windows Phone 7 by user-9f8e7d", map[string]string{"sub": "user-9f8e7d"}),
		jwtEvent(strings.Repeat("x", 5000), map[string]string{"sub": "user-9f8e7d"}),
	} {
		resp, _ := h.Handle(context.Background(), ev)
		var body struct {
			UserHash string `json:"user_hash"`
			UserJWT  string `json:"user_jwt"`
		}
		_ = json.Unmarshal([]byte(resp.Body), &body)
		for _, s := range []string{body.UserHash, body.UserJWT} {
			if s != "" {
				secretsSeen = append(secretsSeen, s)
			}
		}
	}
	if len(secretsSeen) < 4 {
		t.Fatalf("the handler issued %d hashes and JWTs, want 3 at least: the test would check nothing", len(secretsSeen)-1)
	}
	got := out.String()
	if _, err := parseLines(got); err != nil {
		t.Fatal(err)
	}
	for _, s := range append(secretsSeen, "user-9f8e7d", "zed.unique", "only.email.unique", "iPhone", "IPAD", "Windows", "xxxx") {
		if strings.Contains(got, s) {
			t.Errorf("the metrics lines contain %q:\n%s", s, got)
		}
	}
}

// TestConcurrentRequests checks that lines written from many goroutines
// stay whole and that every cache event is counted exactly once.
func TestConcurrentRequests(t *testing.T) {
	const workers, each = 20, 50
	var out logtest.Buffer
	rec := metrics.New(&out)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				rec.SecretEvent(secrets.Event{Kind: secrets.EventHit})
				rec.Request(httpapi.Outcome{Platform: platform.Web, Code: httpapi.CodeOK, Status: 200, Duration: time.Millisecond})
			}
		})
	}
	wg.Wait()
	rec.Flush()

	lines, err := parseLines(out.String())
	if err != nil {
		t.Fatal(err)
	}
	var requests, hits float64
	for _, points := range lines {
		for _, p := range find(points, "Requests", "Outcome=ok") {
			requests += p.Value
		}
		for _, p := range find(points, "SecretCacheHits", "") {
			hits += p.Value
		}
	}
	if requests != workers*each || hits != workers*each {
		t.Errorf("summed Requests = %v and SecretCacheHits = %v, want %d each", requests, hits, workers*each)
	}
}

func TestParseEMFRefusesInvalidDocuments(t *testing.T) {
	// The specification's own example, then one rule broken per row: the
	// reader the other tests rely on must tell them apart.
	valid := `{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"lambda-function-metrics","Dimensions":[["functionVersion"]],"Metrics":[{"Name":"time","Unit":"Milliseconds"}]}]},"functionVersion":"$LATEST","time":100,"requestId":"989ffbf8-9ace-4817-a57c-e4dd734019ee"}`
	if _, points, err := parseEMF([]byte(valid)); err != nil || len(points) != 1 || points[0].Value != 100 {
		t.Fatalf("the specification's example: points %v, error %v; want one point of 100", points, err)
	}
	tests := []struct {
		name string
		line string
	}{
		{"not JSON", `{"_aws":`},
		{"no _aws", `{"time":1}`},
		{"a float timestamp", strings.Replace(valid, "1574109732004", "1574109732004.5", 1)},
		{"no timestamp", strings.Replace(valid, `"Timestamp":1574109732004,`, "", 1)},
		{"an extra _aws member", strings.Replace(valid, `"Timestamp"`, `"LogGroupName":"x","Timestamp"`, 1)},
		{"an extra directive member", strings.Replace(valid, `"Namespace"`, `"Extra":1,"Namespace"`, 1)},
		{"an extra metric definition member", strings.Replace(valid, `"Unit":"Milliseconds"`, `"Unit":"Milliseconds","Max":1`, 1)},
		{"a member name in the wrong case", strings.Replace(valid, `"Timestamp"`, `"timestamp"`, 1)},
		{"an empty namespace", strings.Replace(valid, `"lambda-function-metrics"`, `""`, 1)},
		{"a dimension with no root member", strings.Replace(valid, `"functionVersion":"$LATEST",`, "", 1)},
		{"a numeric dimension", strings.Replace(valid, `"$LATEST"`, `7`, 1)},
		{"an empty dimension value", strings.Replace(valid, `"$LATEST"`, `""`, 1)},
		{"no Dimensions", strings.Replace(valid, `"Dimensions":[["functionVersion"]],`, "", 1)},
		{"ten dimension keys", strings.Replace(valid, `["functionVersion"]`, `["a","b","c","d","e","f","g","h","i","j"]`, 1)},
		{"a metric with no root member", strings.Replace(valid, `"time":100,`, "", 1)},
		{"a string metric", strings.Replace(valid, `"time":100`, `"time":"100"`, 1)},
		{"a null metric", strings.Replace(valid, `"time":100`, `"time":null`, 1)},
		{"an unknown unit", strings.Replace(valid, `"Milliseconds"`, `"Millis"`, 1)},
		{"a bad storage resolution", strings.Replace(valid, `"Unit":"Milliseconds"`, `"Unit":"Milliseconds","StorageResolution":5`, 1)},
		{"a member both dimension and metric", strings.Replace(valid, `"Metrics":[{"Name":"time"`, `"Metrics":[{"Name":"functionVersion"`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, points, err := parseEMF([]byte(tt.line)); err == nil {
				t.Errorf("parseEMF accepted %s, giving %v; want an error", tt.line, points)
			}
		})
	}
}

func BenchmarkRequest(b *testing.B) {
	rec := metrics.New(discard{}, metrics.WithFunctionName("userhash-prod-UserHashFunction"))
	o := httpapi.Outcome{Platform: platform.IOS, Code: httpapi.CodeOK, Status: 200, Duration: 1234 * time.Microsecond}
	b.ReportAllocs()
	for b.Loop() {
		rec.SecretEvent(secrets.Event{Kind: secrets.EventHit})
		rec.Request(o)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// jwtEvent is an HTTP API event in jwt mode whose authorizer verified
// claims, asking for platform.
func jwtEvent(p string, claims map[string]string) events.APIGatewayV2HTTPRequest {
	body, _ := json.Marshal(map[string]string{"platform": p})
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0",
		Headers: map[string]string{"content-type": "application/json"},
		Body:    string(body),
	}
	ev.RequestContext.HTTP.Method = "POST"
	ev.RequestContext.RequestID = "req-1"
	ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
	}
	return ev
}
