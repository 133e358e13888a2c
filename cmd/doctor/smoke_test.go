// The smoke test's checks against a fake of the deployed API that can fail
// in the ways the real one should not: each fault must fail its check, and
// the answer from the far side, even one that echoes the password, never
// puts a credential in the report.

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fakeAPI answers as the deployed API does, unless a fault says otherwise.
type fakeAPI struct {
	fault func(w http.ResponseWriter, r *http.Request, a map[string]any) bool // true: it answered; r.Form holds the body's fields

	mu       sync.Mutex
	requests []fakeRequest
}

type fakeRequest struct {
	method, auth, origin string
	body                 map[string]string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]string
	_ = json.NewDecoder(r.Body).Decode(&body)
	r.Form = map[string][]string{}
	for k, v := range body {
		r.Form.Set(k, v)
	}
	f.mu.Lock()
	f.requests = append(f.requests, fakeRequest{r.Method, r.Header.Get("Authorization"), r.Header.Get("Origin"), body})
	f.mu.Unlock()
	if r.Header.Get("Origin") == "capacitor://localhost" {
		w.Header().Set("Access-Control-Allow-Origin", "capacitor://localhost")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "POST")
			w.Header().Set("Access-Control-Allow-Headers", "authorization, content-type")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	secret := map[string]string{"ios": iosSecret, "android": androidSecret, "web": webSecret}[body["platform"]]
	exp := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"user_id": "u-123", "email": "alice@example.com", "iat": time.Now().Unix(), "exp": exp.Unix()}).SignedString([]byte(secret))
	a := map[string]any{
		"platform": body["platform"], "user_id": "u-123", "email": "alice@example.com",
		"user_hash": hmacHex(secret, "u-123"), "user_jwt": tok, "user_jwt_expires_at": exp.Format(time.RFC3339),
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Request-Id", "req-1")
	if f.fault != nil && f.fault(w, r, a) {
		return
	}
	_ = json.NewEncoder(w).Encode(a)
}

func problemJSON(w http.ResponseWriter, status int, code, detail string) bool {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"type":"https://example.com/%s","title":"t","status":%d,"detail":%q,"code":%q}`, code, status, detail, code)
	return true
}

func TestSmokeTestChecks(t *testing.T) {
	const token = "eyJhbGciOiJSUzI1NiJ9.fake-bearer-token.sig"
	const password = "correct-horse-battery"
	tests := []struct {
		name     string
		fault    func(w http.ResponseWriter, r *http.Request, a map[string]any) bool
		args     []string
		platform string // "" for ios, "-" for none (every configured platform)
		password bool   // password mode rather than a bearer token
		timeout  string
		wantFail map[string]string // failed check -> words its detail holds
	}{
		{name: "a healthy API"},
		{name: "a healthy API, every platform", platform: "-"},
		{name: "with an allowed origin", args: []string{"-origin", "capacitor://localhost"}},
		{name: "an origin that is not allowed", args: []string{"-origin", "https://evil.example"},
			wantFail: map[string]string{"api.ios.cors": "does not allow the origin"}},
		{name: "password mode", password: true},
		{name: "the answer may be cached", fault: func(w http.ResponseWriter, _ *http.Request, _ map[string]any) bool {
			w.Header().Set("Cache-Control", "max-age=300")
			return false
		}, wantFail: map[string]string{"api.ios.headers": "max-age=300"}},
		{name: "API Gateway refuses the token", fault: func(w http.ResponseWriter, _ *http.Request, _ map[string]any) bool {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"message":"Unauthorized"}`)
			return true
		}, wantFail: map[string]string{"api.ios": "API Gateway refused"}},
		{name: "the secret is unavailable", fault: func(w http.ResponseWriter, _ *http.Request, _ map[string]any) bool {
			return problemJSON(w, http.StatusServiceUnavailable, "secret_unavailable", "try again later")
		}, wantFail: map[string]string{"api.ios": "503"}},
		{name: "signed with another platform's secret", fault: func(_ http.ResponseWriter, _ *http.Request, a map[string]any) bool {
			a["user_hash"] = hmacHex(androidSecret, "u-123")
			return false
		}, wantFail: map[string]string{"api.ios.user_hash": "android secret"}},
		{name: "signed with a secret the doctor does not have", fault: func(_ http.ResponseWriter, _ *http.Request, a map[string]any) bool {
			a["user_hash"] = hmacHex("stale-secret-value", "u-123")
			return false
		}, wantFail: map[string]string{"api.ios.user_hash": "not made with the ios secret"}},
		{name: "the hash over the email while a user_id is returned", fault: func(_ http.ResponseWriter, _ *http.Request, a map[string]any) bool {
			a["user_hash"] = hmacHex(iosSecret, "alice@example.com")
			return false
		}, wantFail: map[string]string{"api.ios.user_hash": "not made"}},
		{name: "the answer is for another platform", fault: func(_ http.ResponseWriter, _ *http.Request, a map[string]any) bool {
			a["platform"] = "android"
			return false
		}, wantFail: map[string]string{"api.ios.user_hash": "for platform"}},
		{name: "the JWT's expiry is not the one announced", fault: func(_ http.ResponseWriter, _ *http.Request, a map[string]any) bool {
			a["user_jwt_expires_at"] = "2030-01-01T00:00:00Z"
			return false
		}, wantFail: map[string]string{"api.ios.user_jwt": "is not its exp"}},
		{name: "the JWT is for another user", fault: func(_ http.ResponseWriter, _ *http.Request, a map[string]any) bool {
			a["user_id"] = "u-999"
			a["user_hash"] = hmacHex(iosSecret, "u-999")
			return false
		}, wantFail: map[string]string{"api.ios.user_jwt": "user_id is not the answer's"}},
		{name: "a redirect", fault: func(w http.ResponseWriter, _ *http.Request, _ map[string]any) bool {
			w.Header().Set("Location", "https://elsewhere.example/")
			w.WriteHeader(http.StatusMovedPermanently)
			return true
		}, wantFail: map[string]string{"api.ios": "redirected"}},
		{name: "no answer within the time bound", timeout: "200ms", fault: func(_ http.ResponseWriter, r *http.Request, _ map[string]any) bool {
			<-r.Context().Done()
			return true
		}, wantFail: map[string]string{"api.ios": "no answer within 200ms"}},
		{name: "a far side that echoes the token", fault: echo, wantFail: map[string]string{"api.ios": "[redacted]"}},
		{name: "a far side that echoes the password", password: true, fault: echo, wantFail: map[string]string{"api.ios": "[redacted]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{fault: tt.fault}
			srv := httptest.NewServer(api)
			defer srv.Close()
			timeout := tt.timeout
			if timeout == "" {
				timeout = "10s"
			}
			args := append([]string{"-url", srv.URL + "/v1/intercom/user-hash", "-timeout", timeout, "-json"}, tt.args...)
			switch tt.platform {
			case "":
				args = append(args, "-platform", "ios")
			case "-":
			default:
				args = append(args, "-platform", tt.platform)
			}
			if tt.password {
				args = append(args, "-username", "alice@example.com", "-password-stdin")
			} else {
				args = append(args, "-token", token)
			}
			code, out, stderr := runDoctor(t, literalEnv(), password+"\n", args...)
			r := decodeReport(t, out)
			failed := map[string]string{}
			for _, c := range r.Checks {
				if !c.OK {
					failed[c.Name] = c.Detail
				}
			}
			for name, words := range tt.wantFail {
				detail, ok := failed[name]
				if !ok {
					t.Errorf("check %s passed, want it to fail\n%s", name, out)
				} else if !strings.Contains(detail, words) {
					t.Errorf("check %s: detail %q does not say %q", name, detail, words)
				}
			}
			for name, detail := range failed {
				if _, ok := tt.wantFail[name]; !ok {
					t.Errorf("check %s failed (%s), want it to pass", name, detail)
				}
			}
			if want := map[bool]int{true: exitOK, false: exitFailed}[len(tt.wantFail) == 0]; code != want {
				t.Errorf("exit status = %d, want %d; stderr %q", code, want, stderr)
			}
			assertClean(t, out, token, password, iosSecret, androidSecret, webSecret, hmacHex(iosSecret, "u-123"))
		})
	}
}

// echo is a far side that puts the credentials it was sent in its answer.
func echo(w http.ResponseWriter, r *http.Request, _ map[string]any) bool {
	return problemJSON(w, http.StatusBadRequest, "invalid_request", "got "+r.Header.Get("Authorization")+" and "+r.Form.Get("password"))
}

// TestSmokeTestRequests checks what the doctor sends: what an app sends,
// the credentials only where they belong.
func TestSmokeTestRequests(t *testing.T) {
	api := &fakeAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	code, out, _ := runDoctor(t, literalEnv(), "pw with spaces \n", "-url", srv.URL, "-username", "bob", "-password-stdin", "-origin", "capacitor://localhost")
	if code != exitOK {
		t.Fatalf("exit status = %d\n%s", code, out)
	}
	var posts, preflights int
	for _, r := range api.requests {
		switch r.method {
		case http.MethodPost:
			posts++
			if r.body["username"] != "bob" || r.body["password"] != "pw with spaces " || r.body["platform"] == "" || len(r.body) != 3 {
				t.Errorf("POST body = %v, want username, the password as piped in (spaces kept), platform", r.body)
			}
			if r.auth != "" {
				t.Errorf("password mode sent Authorization %q", r.auth)
			}
		case http.MethodOptions:
			preflights++
			if r.body != nil {
				t.Errorf("the preflight carried a body %v", r.body)
			}
		}
		if r.origin != "capacitor://localhost" {
			t.Errorf("%s without the Origin", r.method)
		}
	}
	if posts != 3 || preflights != 3 {
		t.Errorf("%d POSTs and %d preflights, want one each per configured platform (3)", posts, preflights)
	}
}
