// The cache's metrics seam: every hit, miss, stale serve and fetch is an
// Event handed to the observer set with WithObserver, so that metrics (such
// as CloudWatch EMF counters) need no change to the cache.

package secrets

import "time"

// EventKind says what the cache did.
type EventKind int

// The event kinds.
const (
	EventHit         EventKind = iota + 1 // a fresh value was served from memory
	EventMiss                             // no fresh value: Get started or joined a fetch
	EventStale                            // a stale value was served because fetching failed or is backing off
	EventFetch                            // a GetSecretValue call succeeded
	EventFetchError                       // a GetSecretValue call failed, or its value was unusable
	EventUnavailable                      // Get returned an *UnavailableError
)

// String returns a metric-friendly name: "hit", "miss", "stale", "fetch",
// "fetch_error" or "unavailable".
func (k EventKind) String() string {
	switch k {
	case EventHit:
		return "hit"
	case EventMiss:
		return "miss"
	case EventStale:
		return "stale"
	case EventFetch:
		return "fetch"
	case EventFetchError:
		return "fetch_error"
	case EventUnavailable:
		return "unavailable"
	}
	return "unknown"
}

// Event is one thing the cache did. It never carries a value.
type Event struct {
	Kind     EventKind
	SecretID string
	Reason   string        // for EventFetchError and EventUnavailable: one of the Reason constants
	Duration time.Duration // for EventFetch and EventFetchError: how long the call took
}
