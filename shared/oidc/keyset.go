// The issuer's signing keys (its JWKS), downloaded at most once per
// interval whatever tokens arrive, and shared by every verification.

package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// KeyRefreshInterval is the least time between two downloads of the
// issuer's key set. A token naming a key the cache does not hold
// starts a download only when the last one began at least this long ago,
// so made-up key IDs cost the issuer one request per interval at most, and
// a key the issuer newly publishes is accepted within this time. The
// `jose` JavaScript library and others use the same 30 s.
const KeyRefreshInterval = 30 * time.Second

// maxJWKSBytes bounds the key set read into memory; real ones are a few
// kilobytes.
const maxJWKSBytes = 1 << 20

// errUnknownKey is a token signed by no key the issuer publishes, as far
// as the cache knows and may know for now.
var errUnknownKey = errors.New("no key of the issuer verifies the signature")

// keySet implements go-oidc's KeySet with the issuer's JWKS. It replaces
// go-oidc's RemoteKeySet for two reasons. RemoteKeySet downloads the set
// again for every token with a key ID it has not seen, so anyone can make
// the local server hammer the issuer with made-up key IDs. And it wakes
// the verifications waiting on a download before it stores the keys and
// frees its in-flight slot; a verification that starts in that window
// (easy on a busy machine) joins the finished download and gets the key
// set from before it, so a newly published key is refused. Here the keys
// are stored and the slot freed before anyone is woken.
type keySet struct {
	url      string
	client   *http.Client
	now      func() time.Time // the rate limit's clock; tests pass a fake one
	interval time.Duration
	timeout  time.Duration // one download
	algs     []jose.SignatureAlgorithm

	mu      sync.Mutex
	keys    []jose.JSONWebKey
	lastErr error     // why the last download failed; nil after a success
	started time.Time // when the last download started; zero: never
	flight  *download // the download in progress, if any
}

// download is one JWKS download that several verifications may wait on.
// done is closed once keySet.keys holds its result (on success) and
// keySet.flight no longer points to it.
type download struct {
	done chan struct{}
	err  error
}

func newKeySet(url string, client *http.Client, now func() time.Time, timeout time.Duration, algs []string) *keySet {
	k := &keySet{url: url, client: client, now: now, interval: KeyRefreshInterval, timeout: timeout}
	for _, a := range algs {
		k.algs = append(k.algs, jose.SignatureAlgorithm(a))
	}
	return k
}

// VerifySignature checks the token's signature with the issuer's key named
// by its key ID, and
// returns the payload. go-oidc has checked the algorithm before.
func (k *keySet) VerifySignature(ctx context.Context, token string) ([]byte, error) {
	jws, err := jose.ParseSigned(token, k.algs)
	if err != nil {
		return nil, fmt.Errorf("malformed token: %v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("not exactly one signature")
	}
	header := jws.Signatures[0].Header
	if header.KeyID == "" {
		// API Gateway's JWT authorizer requires a kid that names a key of
		// the issuer's JWKS; a token without one fails there, so here too.
		return nil, errors.New("no kid in the token's header")
	}
	payload, known, err := verifyWith(jws, header, k.cached())
	if err == nil || known {
		// A key with the token's ID that does not verify it is a forged
		// or damaged token, which a new download would not mend.
		return payload, err
	}
	keys, err := k.refresh(ctx)
	if err != nil {
		return nil, err
	}
	payload, _, err = verifyWith(jws, header, keys)
	return payload, err
}

// verifyWith verifies jws with the keys that match its header: the key
// with its key ID (VerifySignature has refused a token without one); a key whose declared
// algorithm is another than the token's is never used. known reports
// whether a key with the token's key ID was among them.
func verifyWith(jws *jose.JSONWebSignature, header jose.Header, keys []jose.JSONWebKey) (payload []byte, known bool, err error) {
	for i := range keys {
		key := &keys[i]
		if key.KeyID != header.KeyID {
			continue
		}
		if key.Algorithm != "" && key.Algorithm != header.Algorithm {
			continue
		}
		known = true
		if payload, err := jws.Verify(key); err == nil {
			return payload, known, nil
		}
	}
	return nil, known, errUnknownKey
}

func (k *keySet) cached() []jose.JSONWebKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys
}

// refresh returns the keys after the download that is in flight, or after
// a new one if the last began at least the interval ago; otherwise the
// keys as they are, which may be newer than the ones the caller tried.
// The download belongs to everyone waiting on it: it has its own time
// bound, and a caller whose context ends stops waiting without cutting it
// short for the others.
func (k *keySet) refresh(ctx context.Context) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	f := k.flight
	if f == nil {
		now := k.now()
		if !k.started.IsZero() && now.Sub(k.started) < k.interval {
			keys, err := k.keys, k.lastErr
			k.mu.Unlock()
			return keys, err
		}
		k.started = now
		f = &download{done: make(chan struct{})}
		k.flight = f
		go k.download(f)
	}
	k.mu.Unlock()

	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the issuer's keys: %w", ctx.Err())
	}
	if f.err != nil {
		return nil, f.err
	}
	return k.cached(), nil
}

// download fetches the key set and stores it, and only then frees the
// in-flight slot and wakes the waiters: a verification that starts after
// the wake-up finds either the new keys or no download in flight, never a
// finished download's stale answer. A failed download keeps the old keys.
func (k *keySet) download(f *download) {
	keys, err := k.fetch()
	k.mu.Lock()
	if err == nil {
		k.keys = keys
	}
	f.err, k.lastErr = err, err
	k.flight = nil
	k.mu.Unlock()
	close(f.done)
}

func (k *keySet) fetch() ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(context.Background(), k.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: key set URL: %v", ErrIssuerUnavailable, err)
	}
	// Past any cache on the way: a new key ID means the set has changed.
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: key set: %v", ErrIssuerUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: key set: HTTP %d", ErrIssuerUnavailable, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: key set: %v", ErrIssuerUnavailable, err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("%w: key set over %d bytes", ErrIssuerUnavailable, maxJWKSBytes)
	}
	return parseKeySet(body)
}

// parseKeySet reads a JWKS document. Keys this verifier cannot use (an
// unknown key type, an algorithm it does not accept, an encryption key,
// one that does not parse) are left out rather than failing the set, as
// RFC 7517 §5 asks, so that one exotic key cannot stop the others from
// verifying.
func parseKeySet(body []byte) ([]jose.JSONWebKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%w: key set is not a JWKS document: %v", ErrIssuerUnavailable, err)
	}
	var keys []jose.JSONWebKey
	for _, raw := range doc.Keys {
		var key jose.JSONWebKey
		if err := json.Unmarshal(raw, &key); err != nil || !key.Valid() {
			continue
		}
		if key.Use != "" && key.Use != "sig" || key.Algorithm != "" && !slices.Contains(algorithms, key.Algorithm) {
			continue
		}
		if !key.IsPublic() {
			key = key.Public()
		}
		keys = append(keys, key)
	}
	return keys, nil
}
