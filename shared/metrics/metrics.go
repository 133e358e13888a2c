// Package metrics publishes the function's CloudWatch metrics as Embedded
// Metric Format (EMF) lines: JSON log lines that CloudWatch Logs turns into
// metrics, with no CloudWatch client, no API call and no IAM permission.
//
//	rec := metrics.New(os.Stdout, metrics.WithDimension("FunctionName", os.Getenv("AWS_LAMBDA_FUNCTION_NAME")))
//	cache := secrets.NewCache(client, secrets.WithObserver(rec.SecretEvent))
//	h := httpapi.New(src, platforms, httpapi.WithObserver(rec.Request))
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
// canonical name, the outcome code) and from the values the wiring gives
// WithDimension.
package metrics

import (
	"encoding/json"
	"io"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// DefaultNamespace is the CloudWatch namespace the metrics go to unless
// WithNamespace says otherwise; the template's alarms name it.
const DefaultNamespace = "IntercomUserHash"

// The names of the metrics and of the dimensions this package writes, as
// they appear in CloudWatch.
const (
	MetricRequests          = "Requests"          // Count, 1 per answered request
	MetricLatency           = "Latency"           // Milliseconds, the handler's time for the request
	MetricAuthFailures      = "AuthFailures"      // Count, 1 for a 401 answer, else 0 (so Average is the failure rate)
	MetricSecretCacheHits   = "SecretCacheHits"   // Count, secrets served fresh from memory
	MetricSecretCacheMisses = "SecretCacheMisses" // Count, secrets not fresh in memory when asked for
	MetricSecretStaleServes = "SecretStaleServes" // Count, stale secrets served while Secrets Manager fails
	MetricSecretFetches     = "SecretFetches"     // Count, GetSecretValue calls that succeeded
	MetricSecretFetchErrors = "SecretFetchErrors" // Count, GetSecretValue calls that failed or gave an unusable value
	MetricSecretUnavailable = "SecretUnavailable" // Count, requests answered 503 for want of a secret

	DimensionPlatform = "Platform" // "ios", "android", "web", or "none" before the platform is known
	DimensionOutcome  = "Outcome"  // the problem code, or "ok"
)

// platformNone is the Platform dimension of a request answered before its
// platform was known (a malformed body, a wrong method). Never the raw
// platform the client sent: that is the client's input, of any size.
const platformNone = "none"

// Recorder writes EMF lines to a writer. It is safe for concurrent use; a
// line is written with one Write call, so lines never interleave.
type Recorder struct {
	namespace string
	static    []dimension
	now       func() time.Time

	// The cache's counts since the last line, by secrets.EventKind.
	counts [numKinds]atomic.Int64

	mu  sync.Mutex // guards w and buf
	w   io.Writer
	buf []byte

	// Precomputed at New: everything in a line that does not change.
	requestDirectives []byte // the CloudWatchMetrics array of a request line
	cacheDirectives   []byte // that of a line with only the cache's counts
	staticMembers     []byte // the static dimensions as root members, each followed by a comma
}

type dimension struct{ name, value string }

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

// WithDimension adds a dimension, such as the function's name, to every
// metric, so that two stacks in one account keep apart. An empty value is
// left out, since CloudWatch refuses empty dimension values: the wiring
// can pass AWS_LAMBDA_FUNCTION_NAME as it is, unset on a laptop. Names
// this package uses itself are ignored.
func WithDimension(name, value string) Option {
	return func(r *Recorder) {
		if name == "" || value == "" || reserved[name] {
			return
		}
		for i, d := range r.static {
			if d.name == name {
				r.static[i].value = value
				return
			}
		}
		r.static = append(r.static, dimension{name, value})
	}
}

// WithClock sets the clock that stamps each line; tests pass a fake one.
func WithClock(now func() time.Time) Option {
	return func(r *Recorder) {
		if now != nil {
			r.now = now
		}
	}
}

// reserved are the root members a request line writes; a static dimension
// of the same name would make the line ambiguous.
var reserved = map[string]bool{
	"_aws": true, DimensionPlatform: true, DimensionOutcome: true,
	MetricRequests: true, MetricLatency: true, MetricAuthFailures: true,
	MetricSecretCacheHits: true, MetricSecretCacheMisses: true, MetricSecretStaleServes: true,
	MetricSecretFetches: true, MetricSecretFetchErrors: true, MetricSecretUnavailable: true,
}

// New returns a Recorder that writes to w: os.Stdout in Lambda, where every
// line becomes a log event that CloudWatch Logs reads for metrics.
func New(w io.Writer, opts ...Option) *Recorder {
	r := &Recorder{namespace: DefaultNamespace, now: time.Now, w: w, buf: make([]byte, 0, 1024)}
	for _, o := range opts {
		o(r)
	}
	r.requestDirectives = r.directives(true)
	r.cacheDirectives = r.directives(false)
	for _, d := range r.static {
		r.staticMembers = appendString(r.staticMembers, d.name)
		r.staticMembers = append(r.staticMembers, ':')
		r.staticMembers = appendString(r.staticMembers, d.value)
		r.staticMembers = append(r.staticMembers, ',')
	}
	return r
}

// directive is an EMF MetricDirective.
type directive struct {
	Namespace  string             `json:"Namespace"`
	Dimensions [][]string         `json:"Dimensions"`
	Metrics    []metricDefinition `json:"Metrics"`
}

type metricDefinition struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// directives returns the CloudWatchMetrics array: which members of the
// line are metrics, in which units, under which sets of dimensions. Each
// dimension set makes a metric of its own in CloudWatch (and is billed as
// one), so the sets are the few an on-call engineer graphs and alarms on.
func (r *Recorder) directives(request bool) []byte {
	dims := func(names ...string) []string {
		set := make([]string, 0, len(r.static)+len(names))
		for _, d := range r.static {
			set = append(set, d.name)
		}
		return append(set, names...)
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
		Metrics: count(MetricSecretCacheHits, MetricSecretCacheMisses, MetricSecretStaleServes,
			MetricSecretFetches, MetricSecretFetchErrors, MetricSecretUnavailable),
	}
	ds := []directive{cache}
	if request {
		ds = []directive{
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
				Metrics:    count(MetricAuthFailures),
			},
			cache,
		}
	}
	b, err := json.Marshal(ds)
	if err != nil {
		// Strings, slices and structs of them always marshal.
		return []byte("[]")
	}
	return b
}

// SecretEvent counts one of the secret cache's events; pass it to
// secrets.WithObserver. The counts go out with the next line. It takes no
// lock and does not allocate: it runs on the request path.
func (r *Recorder) SecretEvent(ev secrets.Event) {
	if k := int(ev.Kind); k > 0 && k < numKinds {
		r.counts[k].Add(1)
	}
}

// Request writes the line for one answered request; pass it to
// httpapi.WithObserver. Write errors are dropped: metrics never fail a
// request.
func (r *Recorder) Request(o httpapi.Outcome) {
	platform := platformNone
	if o.Platform.Valid() {
		platform = o.Platform.String()
	}
	code := string(o.Code)
	if code == "" {
		code = "unknown" // CloudWatch refuses an empty dimension value
	}
	authFailure := 0
	if o.Status == 401 {
		authFailure = 1
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.begin(r.requestDirectives)
	b = appendMember(b, DimensionPlatform)
	b = appendString(b, platform)
	b = appendMember(b, DimensionOutcome)
	b = appendString(b, code)
	b = appendMember(b, MetricRequests)
	b = append(b, '1')
	b = appendMember(b, MetricLatency)
	b = strconv.AppendFloat(b, milliseconds(o.Duration), 'f', -1, 64)
	b = appendMember(b, MetricAuthFailures)
	b = strconv.AppendInt(b, int64(authFailure), 10)
	r.end(b)
}

// Flush writes a line with the secret cache's counts if any are waiting,
// such as from a prefetch at a cold start that no request followed. Call
// it when shutting down.
func (r *Recorder) Flush() {
	pending := false
	for k := range r.counts {
		if r.counts[k].Load() != 0 {
			pending = true
			break
		}
	}
	if !pending {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.end(r.begin(r.cacheDirectives))
}

// begin starts a line in r.buf, up to and including the static
// dimensions; r.mu must be held.
func (r *Recorder) begin(directives []byte) []byte {
	b := append(r.buf[:0], `{"_aws":{"Timestamp":`...)
	b = strconv.AppendInt(b, r.now().UnixMilli(), 10)
	b = append(b, `,"CloudWatchMetrics":`...)
	b = append(b, directives...)
	b = append(b, "},"...)
	return append(b, r.staticMembers...)
}

// end adds the cache's counts, closes the line and writes it; r.mu must be
// held. Taking the counts here, under the lock, gives each event to
// exactly one line.
func (r *Recorder) end(b []byte) {
	b = r.appendCounts(b)
	b = append(b, "}\n"...)
	r.buf = b
	_, _ = r.w.Write(b)
}

func (r *Recorder) appendCounts(b []byte) []byte {
	for _, m := range [...]struct {
		name string
		kind secrets.EventKind
	}{
		{MetricSecretCacheHits, secrets.EventHit},
		{MetricSecretCacheMisses, secrets.EventMiss},
		{MetricSecretStaleServes, secrets.EventStale},
		{MetricSecretFetches, secrets.EventFetch},
		{MetricSecretFetchErrors, secrets.EventFetchError},
		{MetricSecretUnavailable, secrets.EventUnavailable},
	} {
		b = appendMember(b, m.name)
		b = strconv.AppendInt(b, r.counts[m.kind].Swap(0), 10)
	}
	return b
}

// appendMember appends a member's name and colon, after a comma unless it
// opens the object's members. Every line's first member name comes right
// after the "_aws" object or a static dimension's comma.
func appendMember(b []byte, name string) []byte {
	if c := b[len(b)-1]; c != ',' && c != '{' {
		b = append(b, ',')
	}
	b = appendString(b, name)
	return append(b, ':')
}

// milliseconds is d in milliseconds, to the microsecond.
func milliseconds(d time.Duration) float64 {
	if d < 0 {
		return 0
	}
	return math.Round(float64(d)/float64(time.Microsecond)) / 1000
}

// appendString appends s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD, as encoding/json
// does (bar its HTML escaping, which a log line has no use for).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		rn, size := utf8.DecodeRuneInString(s[i:]) // utf8.RuneError for invalid bytes
		b = utf8.AppendRune(b, rn)
		i += size
	}
	return append(b, '"')
}
