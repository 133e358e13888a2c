// Package metrics publishes the function's CloudWatch metrics as Embedded
// Metric Format (EMF) lines: JSON log lines that CloudWatch Logs turns into
// metrics, with no CloudWatch client, no API call and no IAM permission.
//
//	rec := metrics.New(os.Stdout, metrics.WithFunctionName(cfg.FunctionName)) // AWS_LAMBDA_FUNCTION_NAME
//	cache := secrets.NewCache(client, secrets.WithObserver(rec.SecretEvent))
//	h := httpapi.New(src, src.Served(), httpapi.WithObserver(rec.Request))
//
// Each answered request writes one line, which carries all of that
// request's metrics (Requests by Outcome and Platform, Latency,
// AuthFailures) and the secret cache's counts since the line before
// (SecretCacheHits, SecretCacheMisses, SecretStaleServes, SecretFetches,
// SecretFetchErrors, SecretUnavailable). Folding the cache's events into the
// request's line keeps the log at one metrics line per request, however
// many cache events a request causes.
//
// No metric and no dimension ever carries a user identifier, a credential
// or a secret: dimensions take values only from fixed sets (the platform's
// canonical name, the outcome code) and from the function name the wiring
// gives WithFunctionName.
package metrics

import (
	"encoding/json"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// DefaultNamespace is the CloudWatch namespace the metrics go to unless
// WithNamespace says otherwise; the template's alarms name it.
const DefaultNamespace = "IntercomUserHash"

// The names of the metrics and of the dimensions this package writes, as
// they appear in CloudWatch. The JSON names of cacheLine and requestLine
// are these; the tests hold the two together. Those exported are the ones
// the template's dashboard and alarms name, which deploy's tests check.
const (
	MetricRequests          = "Requests"          // Count, 1 per answered request
	MetricLatency           = "Latency"           // Milliseconds, the handler's time for the request
	metricAuthFailures      = "AuthFailures"      // Count, 1 for a 401 answer, else 0 (so Average is the failure rate)
	metricSecretCacheHits   = "SecretCacheHits"   // Count, secrets served fresh from memory
	metricSecretCacheMisses = "SecretCacheMisses" // Count, secrets not fresh in memory when asked for
	MetricSecretStaleServes = "SecretStaleServes" // Count, stale secrets served while Secrets Manager fails
	MetricSecretFetches     = "SecretFetches"     // Count, GetSecretValue calls that succeeded
	MetricSecretFetchErrors = "SecretFetchErrors" // Count, GetSecretValue calls that failed or gave an unusable value
	MetricSecretUnavailable = "SecretUnavailable" // Count, requests answered 503 for want of a secret

	DimensionFunctionName = "FunctionName" // the Lambda function's name, on every metric when known
	DimensionPlatform     = "Platform"     // "ios", "android", "web", or "none" before the platform is known
	DimensionOutcome      = "Outcome"      // the problem code, or "ok"
)

// platformNone is the Platform dimension of a request answered before its
// platform was known (a malformed body, a wrong method). Never the raw
// platform the client sent: that is the client's input, of any size.
const platformNone = "none"

// Recorder writes EMF lines to a writer. It is safe for concurrent use; a
// line is written with one Write call, so lines never interleave.
type Recorder struct {
	namespace    string
	functionName string
	now          func() time.Time

	// The cache's counts since the last line, by secrets.EventKind.
	counts [numKinds]atomic.Int64

	mu  sync.Mutex    // guards enc: one Write per line, and the counts' hand-over
	enc *json.Encoder // writes each line to the writer with one Write, newline included

	// Made at New: which members of a line are metrics, under which
	// dimensions.
	requestDirectives []directive // a request's line
	cacheDirectives   []directive // a line with only the cache's counts
}

// numKinds bounds the secrets.EventKind values counted; kinds outside it
// (from a newer cache) are ignored rather than misfiled.
const numKinds = int(secrets.EventUnavailable) + 1

// Option configures a Recorder.
type Option func(*Recorder)

// WithNamespace sets the CloudWatch namespace; the default is
// DefaultNamespace. An empty name leaves the default.
func WithNamespace(ns string) Option {
	return func(r *Recorder) {
		if ns != "" {
			r.namespace = ns
		}
	}
}

// WithFunctionName adds the FunctionName dimension to every metric, so
// that two stacks in one account keep apart. An empty name leaves it out,
// since CloudWatch refuses empty dimension values: the wiring can pass
// AWS_LAMBDA_FUNCTION_NAME as it is, unset on a laptop.
func WithFunctionName(name string) Option {
	return func(r *Recorder) { r.functionName = name }
}

// WithClock sets the clock that stamps each line; tests pass a fake one.
func WithClock(now func() time.Time) Option {
	return func(r *Recorder) {
		if now != nil {
			r.now = now
		}
	}
}

// New returns a Recorder that writes to w: os.Stdout in Lambda, where every
// line becomes a log event that CloudWatch Logs reads for metrics.
func New(w io.Writer, opts ...Option) *Recorder {
	r := &Recorder{namespace: DefaultNamespace, now: time.Now, enc: json.NewEncoder(w)}
	r.enc.SetEscapeHTML(false) // a log line, not HTML
	for _, o := range opts {
		o(r)
	}
	r.requestDirectives = r.directives(true)
	r.cacheDirectives = r.directives(false)
	return r
}

// The members of a line, as encoding/json writes them. An EMF line is one
// JSON object: the _aws metadata, then each dimension and each metric as a
// member of its own, named as the metadata names it.
type (
	metadata struct {
		Timestamp         int64       `json:"Timestamp"` // milliseconds since the epoch
		CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
	}
	// directive is an EMF MetricDirective.
	directive struct {
		Namespace  string             `json:"Namespace"`
		Dimensions [][]string         `json:"Dimensions"`
		Metrics    []metricDefinition `json:"Metrics"`
	}
	metricDefinition struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}

	// cacheLine carries the secret cache's counts: a line by itself from
	// Flush, and part of every request's line.
	cacheLine struct {
		AWS               metadata `json:"_aws"`
		FunctionName      string   `json:"FunctionName,omitempty"`
		SecretCacheHits   int64    `json:"SecretCacheHits"`
		SecretCacheMisses int64    `json:"SecretCacheMisses"`
		SecretStaleServes int64    `json:"SecretStaleServes"`
		SecretFetches     int64    `json:"SecretFetches"`
		SecretFetchErrors int64    `json:"SecretFetchErrors"`
		SecretUnavailable int64    `json:"SecretUnavailable"`
	}
	requestLine struct {
		cacheLine
		Platform     string  `json:"Platform"`
		Outcome      string  `json:"Outcome"`
		Requests     int     `json:"Requests"`
		Latency      float64 `json:"Latency"`
		AuthFailures int     `json:"AuthFailures"`
	}
)

// directives returns the CloudWatchMetrics array: which members of the
// line are metrics, in which units, under which sets of dimensions. Each
// dimension set makes a metric of its own in CloudWatch (and is billed as
// one), so the sets are the few an on-call engineer graphs and alarms on.
func (r *Recorder) directives(request bool) []directive {
	dims := func(names ...string) []string {
		if r.functionName != "" {
			return append([]string{DimensionFunctionName}, names...)
		}
		return append([]string{}, names...)
	}
	count := func(names ...string) []metricDefinition {
		out := make([]metricDefinition, len(names))
		for i, n := range names {
			out[i] = metricDefinition{Name: n, Unit: "Count"}
		}
		return out
	}
	cache := directive{
		Namespace:  r.namespace,
		Dimensions: [][]string{dims()},
		Metrics: count(metricSecretCacheHits, metricSecretCacheMisses, MetricSecretStaleServes,
			MetricSecretFetches, MetricSecretFetchErrors, MetricSecretUnavailable),
	}
	if !request {
		return []directive{cache}
	}
	return []directive{
		{
			Namespace:  r.namespace,
			Dimensions: [][]string{dims(DimensionPlatform, DimensionOutcome), dims(DimensionOutcome)},
			Metrics:    count(MetricRequests),
		},
		{
			Namespace:  r.namespace,
			Dimensions: [][]string{dims(), dims(DimensionOutcome)},
			Metrics:    []metricDefinition{{Name: MetricLatency, Unit: "Milliseconds"}},
		},
		{
			Namespace:  r.namespace,
			Dimensions: [][]string{dims(), dims(DimensionPlatform)},
			Metrics:    count(metricAuthFailures),
		},
		cache,
	}
}

// SecretEvent counts one of the secret cache's events; pass it to
// secrets.WithObserver. The counts go out with the next line. It takes no
// lock: it runs on the request path, inside the cache's own.
func (r *Recorder) SecretEvent(ev secrets.Event) {
	if k := int(ev.Kind); k > 0 && k < numKinds {
		r.counts[k].Add(1)
	}
}

// Request writes the line for one answered request; pass it to
// httpapi.WithObserver. Write errors are dropped: metrics never fail a
// request.
func (r *Recorder) Request(o httpapi.Outcome) {
	line := requestLine{
		cacheLine: r.cacheLine(r.requestDirectives),
		Platform:  platformNone,
		Outcome:   string(o.Code),
		Requests:  1,
		Latency:   milliseconds(o.Duration),
	}
	if o.Platform.Valid() {
		line.Platform = o.Platform.String()
	}
	if line.Outcome == "" {
		line.Outcome = "unknown" // CloudWatch refuses an empty dimension value
	}
	if o.Status == 401 {
		line.AuthFailures = 1
	}
	r.write(&line, &line.cacheLine)
}

// Flush writes a line with the secret cache's counts if any are waiting,
// such as from a prefetch at a cold start that no request followed. The
// local server calls it when it shuts down; in Lambda, where the runtime
// ends the process without a word, the next request's line carries them.
func (r *Recorder) Flush() {
	for k := range r.counts {
		if r.counts[k].Load() != 0 {
			line := r.cacheLine(r.cacheDirectives)
			r.write(&line, &line)
			return
		}
	}
}

func (r *Recorder) cacheLine(directives []directive) cacheLine {
	return cacheLine{AWS: metadata{CloudWatchMetrics: directives}, FunctionName: r.functionName}
}

// write stamps the line, fills in the cache's counts, and writes it with
// one Write. Taking the counts under the lock gives each event to exactly
// one line, and lines reach w in the order of their timestamps.
func (r *Recorder) write(line any, c *cacheLine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c.AWS.Timestamp = r.now().UnixMilli()
	c.SecretCacheHits = r.counts[secrets.EventHit].Swap(0)
	c.SecretCacheMisses = r.counts[secrets.EventMiss].Swap(0)
	c.SecretStaleServes = r.counts[secrets.EventStale].Swap(0)
	c.SecretFetches = r.counts[secrets.EventFetch].Swap(0)
	c.SecretFetchErrors = r.counts[secrets.EventFetchError].Swap(0)
	c.SecretUnavailable = r.counts[secrets.EventUnavailable].Swap(0)
	_ = r.enc.Encode(line) // strings and numbers always marshal; a write error is dropped
}

// milliseconds is d in milliseconds, to the microsecond.
func milliseconds(d time.Duration) float64 {
	if d < 0 {
		return 0
	}
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}
