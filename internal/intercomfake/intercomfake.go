// Package intercomfake is Intercom's identity-verification secrets API
// (REST API version "Preview") as an httptest server, for tests of
// the rotation function and of everything that signs with its secrets. It
// is written from Intercom's API description, apart from the client in
// shared/intercom, so that a mistake the two shared could not pass.
//
//	f := intercomfake.New("access-token")
//	url := f.Start(t)                                           // the API's base URL
//	f.AddSecret("Production iOS", "dashboard-secret", platform.IOS) // one made by hand in Intercom's settings
//	f.Inject(intercomfake.Create, intercomfake.LoseResponse())  // the next create happens, but its answer is lost
//	f.Inject(intercomfake.List, intercomfake.Status(503))
//	f.Live(platform.IOS)                                        // the secrets that exist now
//	f.VerifiesHash(platform.IOS, "u-1", hash)                   // would Intercom accept this user_hash now?
//
// Like Intercom it checks the bearer token (401 unauthorized) and answers
// the documented bodies: the secret's material only in the create's answer,
// 422 parameter_invalid for a create without a name or a platform, 404
// identity_verification_secret_not_found for a delete of an unknown or
// deleted secret, deletes that are soft (the secret stops verifying and
// leaves the list). A request without `Intercom-Version: Preview` is
// refused with 400 intercom_version_invalid: the secrets API exists only
// in that version, and a client that forgot the header must fail loudly.
package intercomfake

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/intercom-identity/userhash/shared/platform"
)

// Op names one operation of the API.
type Op string

// The operations.
const (
	List   Op = "GET /secure_mode_secrets"
	Create Op = "POST /secure_mode_secrets"
	Delete Op = "DELETE /secure_mode_secrets/{id}"
)

// Fault is what Inject makes one call do instead of answering normally.
type Fault struct {
	status int           // answer this status with Intercom's error body
	delay  time.Duration // answer only after this long (the call is still carried out)
	gate   chan struct{} // answer only once this is closed (likewise)
	lose   bool          // carry the call out, then drop the connection unanswered
}

// Status makes the call answer code with Intercom's error body, without
// carrying it out: 401 unauthorized, 422 parameter_invalid, 429
// rate_limit_exceeded, 5xx server_error.
func Status(code int) Fault { return Fault{status: code} }

// Slow makes the call wait d before it is carried out and answered, as an
// overloaded API would; a client that gives up sooner sees no answer, yet
// the call happens.
func Slow(d time.Duration) Fault { return Fault{delay: d} }

// Hold makes the call wait until release is called, then be carried out
// and answered: a slow call whose end the test chooses. A client that
// gives up sooner sees no answer, yet the call happens.
func Hold() (f Fault, release func()) {
	gate := make(chan struct{})
	var once sync.Once
	return Fault{gate: gate}, func() { once.Do(func() { close(gate) }) }
}

// LoseResponse carries the call out (a create creates its secret) and then
// drops the connection without an answer: the client cannot know.
func LoseResponse() Fault { return Fault{lose: true} }

// Secret is one secret as the fake holds it, material included.
type Secret struct {
	ID        string
	Name      string
	Platforms []platform.Platform
	Material  string
	CreatedAt time.Time
	Deleted   bool
}

// Supports reports whether the secret is enabled for p.
func (s Secret) Supports(p platform.Platform) bool {
	for _, q := range s.Platforms {
		if q == p {
			return true
		}
	}
	return false
}

// Call is one request the fake received, and the status it answered (0
// when the connection was dropped).
type Call struct {
	Op     Op
	Path   string
	Status int
}

// Fake is the API of one Intercom workspace. It is safe for concurrent use.
type Fake struct {
	token string

	mu      sync.Mutex
	secrets []*Secret // in creation order
	nextID  int
	faults  map[Op][]Fault
	calls   []Call
	release chan struct{} // closed when the server stops, to end slow calls
	once    sync.Once
}

// New returns a workspace with no secrets whose API accepts the bearer
// token token.
func New(token string) *Fake {
	return &Fake{token: token, nextID: 100, faults: map[Op][]Fault{}, release: make(chan struct{})}
}

// Start serves the fake on a loopback httptest server that stops when the
// test ends, and returns its base URL.
func (f *Fake) Start(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { f.once.Do(func() { close(f.release) }) }) // runs first: frees slow calls
	return srv.URL
}

// AddSecret adds a secret as someone would in Intercom's settings, and
// returns its id.
func (f *Fake) AddSecret(name, material string, platforms ...platform.Platform) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addLocked(name, material, platforms).ID
}

func (f *Fake) addLocked(name, material string, platforms []platform.Platform) *Secret {
	f.nextID++
	s := &Secret{ID: strconv.Itoa(f.nextID), Name: name, Platforms: platforms, Material: material, CreatedAt: time.Now()}
	f.secrets = append(f.secrets, s)
	return s
}

// Inject queues faults for the next calls of op, one call each, in order.
func (f *Fake) Inject(op Op, faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = append(f.faults[op], faults...)
}

// Live returns the secrets that exist (not deleted) and are enabled for p,
// in creation order; p 0 for every platform.
func (f *Fake) Live(p platform.Platform) []Secret {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Secret
	for _, s := range f.secrets {
		if !s.Deleted && (p == 0 || s.Supports(p)) {
			out = append(out, *s)
		}
	}
	return out
}

// All returns every secret ever made, deleted ones included.
func (f *Fake) All() []Secret {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Secret, len(f.secrets))
	for i, s := range f.secrets {
		out[i] = *s
	}
	return out
}

// VerifiesHash reports whether Intercom would accept userHash for
// identifier from an app on p now: it is the HMAC-SHA256 of identifier
// with a live secret of p.
func (f *Fake) VerifiesHash(p platform.Platform, identifier, userHash string) bool {
	for _, s := range f.Live(p) {
		m := hmac.New(sha256.New, []byte(s.Material))
		m.Write([]byte(identifier))
		if hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), []byte(userHash)) {
			return true
		}
	}
	return false
}

// VerifiesJWT reports whether Intercom would accept the Messenger Security
// JWT from an app on p now: HS256 with a live secret of p, unexpired.
func (f *Fake) VerifiesJWT(p platform.Platform, token string) bool {
	for _, s := range f.Live(p) {
		_, err := jwt.Parse(token, func(*jwt.Token) (any, error) { return []byte(s.Material), nil },
			jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
		if err == nil {
			return true
		}
	}
	return false
}

// Calls returns the requests received so far.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// Count returns how many calls of op were received.
func (f *Fake) Count(op Op) int {
	n := 0
	for _, c := range f.Calls() {
		if c.Op == op {
			n++
		}
	}
	return n
}

// ServeHTTP answers the API.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var op Op
	id, isItem := strings.CutPrefix(r.URL.Path, "/secure_mode_secrets/")
	switch {
	case r.URL.Path == "/secure_mode_secrets" && r.Method == http.MethodGet:
		op = List
	case r.URL.Path == "/secure_mode_secrets" && r.Method == http.MethodPost:
		op = Create
	case isItem && id != "" && !strings.Contains(id, "/") && r.Method == http.MethodDelete:
		op = Delete
	default:
		f.answerError(w, r, "", http.StatusNotFound, "not_found", "Resource Not Found")
		return
	}
	// Authentication first, as Intercom checks it before anything else.
	if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); !ok || !hmac.Equal([]byte(got), []byte(f.token)) {
		f.answerError(w, r, op, http.StatusUnauthorized, "unauthorized", "Access Token Invalid")
		return
	}
	if v := r.Header.Get("Intercom-Version"); v != "Preview" {
		f.answerError(w, r, op, http.StatusBadRequest, "intercom_version_invalid", fmt.Sprintf("the secure_mode_secrets API needs Intercom-Version: Preview, got %q", v))
		return
	}

	f.mu.Lock()
	var fault Fault
	if q := f.faults[op]; len(q) > 0 {
		fault, f.faults[op] = q[0], q[1:]
	}
	f.mu.Unlock()
	if fault.status != 0 {
		code, msg := errorFor(fault.status)
		f.answerError(w, r, op, fault.status, code, msg)
		return
	}
	if fault.delay > 0 {
		select {
		case <-time.After(fault.delay):
		case <-f.release:
		}
	}
	if fault.gate != nil {
		select {
		case <-fault.gate:
		case <-f.release:
		}
	}

	status, body := f.carryOut(op, id, r)
	if fault.lose {
		f.record(op, r, 0)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // drops the connection where hijacking is not possible
	}
	f.record(op, r, status)
	if status >= 400 {
		code, msg := body.(errorBody).code, body.(errorBody).msg
		writeError(w, status, code, msg)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

type errorBody struct{ code, msg string }

// carryOut performs op and returns the status and body (or errorBody) of
// its answer.
func (f *Fake) carryOut(op Op, id string, r *http.Request) (int, any) {
	switch op {
	case List:
		f.mu.Lock()
		defer f.mu.Unlock()
		data := []map[string]any{}
		for _, s := range f.secrets {
			if !s.Deleted {
				data = append(data, wire(s, false))
			}
		}
		return http.StatusOK, map[string]any{"type": "list", "data": data}
	case Create:
		var in struct {
			Name            *string `json:"name"`
			SupportsAndroid bool    `json:"supports_android"`
			SupportsIOS     bool    `json:"supports_ios"`
			SupportsWeb     bool    `json:"supports_web"`
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil || json.Unmarshal(b, &in) != nil {
			return http.StatusBadRequest, errorBody{"parameter_invalid", "invalid JSON"}
		}
		var ps []platform.Platform
		for _, x := range []struct {
			on bool
			p  platform.Platform
		}{{in.SupportsIOS, platform.IOS}, {in.SupportsAndroid, platform.Android}, {in.SupportsWeb, platform.Web}} {
			if x.on {
				ps = append(ps, x.p)
			}
		}
		switch {
		case in.Name == nil || *in.Name == "":
			return http.StatusUnprocessableEntity, errorBody{"parameter_invalid", "name is required"}
		case len(ps) == 0:
			return http.StatusUnprocessableEntity, errorBody{"parameter_invalid", "at least one of supports_android, supports_ios, supports_web must be true"}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		return http.StatusCreated, wire(f.addLocked(*in.Name, newMaterial(), ps), true)
	case Delete:
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, s := range f.secrets {
			if s.ID == id && !s.Deleted {
				s.Deleted = true
				return http.StatusNoContent, nil
			}
		}
		return http.StatusNotFound, errorBody{"identity_verification_secret_not_found", "Identity verification secret not found"}
	}
	return http.StatusNotFound, errorBody{"not_found", "Resource Not Found"}
}

// wire is a secret as the API shows it; the material only when asked.
func wire(s *Secret, material bool) map[string]any {
	m := map[string]any{
		"type":             "identity_verification_secret",
		"id":               s.ID,
		"name":             s.Name,
		"supports_android": s.Supports(platform.Android),
		"supports_ios":     s.Supports(platform.IOS),
		"supports_web":     s.Supports(platform.Web),
		"created_at":       s.CreatedAt.Unix(),
	}
	if material {
		m["secret"] = s.Material
	}
	return m
}

// newMaterial is what Intercom generates: 256 random bits, base64url text.
func newMaterial() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func errorFor(status int) (code, msg string) {
	switch {
	case status == http.StatusUnauthorized:
		return "unauthorized", "Access Token Invalid"
	case status == http.StatusNotFound:
		return "identity_verification_secret_not_found", "Identity verification secret not found"
	case status == http.StatusUnprocessableEntity:
		return "parameter_invalid", "name is required"
	case status == http.StatusTooManyRequests:
		return "rate_limit_exceeded", "You have exceeded the rate limit"
	case status >= 500:
		return "server_error", "Server Error"
	}
	return "bad_request", "Bad Request"
}

func (f *Fake) answerError(w http.ResponseWriter, r *http.Request, op Op, status int, code, msg string) {
	f.record(op, r, status)
	writeError(w, status, code, msg)
}

func (f *Fake) record(op Op, r *http.Request, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, Call{Op: op, Path: r.URL.Path, Status: status})
}

// writeError writes Intercom's error body.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type":       "error.list",
		"request_id": rand.Text(),
		"errors":     []map[string]string{{"code": code, "message": msg}},
	})
}
