// A fuzz target for the local server's request translation: any request
// that net/http parses becomes the payload-2.0 event API Gateway would
// send, its body survives the trip to the handler and back byte for byte,
// and through the real handler every answer is documented. Seed corpus:
// testdata/fuzz/FuzzEvent.

package localserver_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/localserver"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// fuzzVerifier accepts one bearer token, for one user.
type fuzzVerifier struct{}

const (
	fuzzToken  = "good-token"
	fuzzUserID = "u-verified"
)

func (fuzzVerifier) Verify(_ context.Context, tok string) (map[string]string, error) {
	if tok == fuzzToken {
		return map[string]string{"sub": fuzzUserID}, nil
	}
	return nil, fmt.Errorf("token rejected")
}

var _ localserver.TokenVerifier = fuzzVerifier{}

// fuzzEcho is a Lambda handler that keeps the event and answers with its
// body, base64-encoded, so that the bytes can be compared end to end.
type fuzzEcho struct {
	calls int
	got   events.APIGatewayV2HTTPRequest
}

func (e *fuzzEcho) handle(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	e.calls++
	e.got = ev
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		body, _ = base64.StdEncoding.DecodeString(ev.Body)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode:      200,
		Headers:         map[string]string{"Content-Type": "application/octet-stream"},
		Body:            base64.StdEncoding.EncodeToString(body),
		IsBase64Encoded: true,
	}, nil
}

func FuzzEvent(f *testing.F) {
	const path = httpapi.Path
	f.Add("POST", path, "Authorization", "Bearer "+fuzzToken, "application/json", "", []byte(`{"platform": "ios"}`))
	f.Add("POST", path+"?a=1&a=2&b", "X-Forwarded-For", "10.0.0.1", "", "session=abc; theme=dark", []byte(`{"platform": "android"}`))
	f.Add("POST", path, "Authorization", "bearer  "+fuzzToken+" ", "application/json; charset=utf-8", "", []byte(`{"platform": "web"}`))
	f.Add("POST", path, "Authorization", "Basic Zm9vOmJhcg==", "application/json", "", []byte(`{"platform": "ios"}`))
	f.Add("POST", path, "X-Binary", "\x80\xff", "application/octet-stream", "", []byte{0, 1, 2, 0xff})
	f.Add("POST", path, "Content-Type", "application/json", "text/plain", "", []byte("not json"))
	f.Add("POST", path, "X-Long", strings.Repeat("a", 4096), "application/json", "", bytes.Repeat([]byte("x"), httpapi.MaxBodyBytes+10))
	f.Add("GET", path, "Accept", "*/*", "", "", []byte(nil))
	f.Add("OPTIONS", "*", "Origin", "capacitor://localhost", "", "", []byte(nil))
	f.Add("POST", "/v1/intercom/user-hash/", "A", "b", "", "", []byte(`{}`))
	f.Add("POST", "/v1/intercom/user%2Dhash", "A", "b", "", "", []byte(`{}`))
	f.Add("POST", "http://other.example/v1/intercom/user-hash", "X-Forwarded-Host", "evil.example", "", "", []byte(`{}`))
	f.Add("PATCH", "/", "Cookie", "a=b", "", "c=d", []byte(nil))

	if _, ok := parseRequest("POST", path, "Authorization", "Bearer "+fuzzToken, "application/json", "a=b", []byte(`{}`)); !ok {
		f.Fatal("a plain request does not parse: the target would check nothing")
	}
	f.Fuzz(func(t *testing.T, method, target, name, value, contentType, cookie string, body []byte) {
		r, ok := parseRequest(method, target, name, value, contentType, cookie, body)
		if !ok {
			return // net/http answers 400 itself, before the server sees it
		}

		// The event, built directly.
		srv := localserver.New((&fuzzEcho{}).handle)
		ev := srv.Event(r, body, "fuzz-id")
		checkEvent(t, r, body, ev)

		// The round trip through ServeHTTP to a handler that echoes.
		echo := &fuzzEcho{}
		w := serve(localserver.New(echo.handle), method, target, name, value, contentType, cookie, body)
		if r.URL.Path != httpapi.Path {
			if w.Code != http.StatusNotFound || echo.calls != 0 {
				t.Fatalf("path %q: status %d with %d handler calls, want 404 without calling the handler", r.URL.Path, w.Code, echo.calls)
			}
			checkProblem(t, w, httpapi.CodeNotFound)
			return
		}
		if echo.calls != 1 {
			t.Fatalf("the handler was called %d times, want 1", echo.calls)
		}
		// The server reads one byte past the handler's limit, so that the
		// handler can tell an oversized body, and no more.
		want := body[:min(len(body), httpapi.MaxBodyBytes+1)]
		if got := w.Body.Bytes(); !bytes.Equal(got, want) {
			t.Fatalf("the body came back as %q, want %q", got, want)
		}

		// The round trip through the real handler, in jwt mode with the
		// server's verifier: every answer is documented, and a 200 is for
		// the verified user only.
		h := httpapi.New(secrets.Static{platform.IOS: []byte("fuzz-ios-secret")}, []platform.Platform{platform.IOS})
		w = serve(localserver.New(h.Handle, localserver.WithVerifier(fuzzVerifier{})), method, target, name, value, contentType, cookie, body)
		checkAnswer(t, w)
	})
}

// rawRequest writes the request as a client would send it.
func rawRequest(method, target, name, value, contentType, cookie string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n", method, target)
	if contentType != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", contentType)
	}
	if name != "" {
		fmt.Fprintf(&b, "%s: %s\r\n", name, value)
	}
	if cookie != "" {
		fmt.Fprintf(&b, "Cookie: %s\r\n", cookie)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	return b.Bytes()
}

// parseRequest parses the raw request as net/http's server does, and
// reports whether it would reach the handler at all.
func parseRequest(method, target, name, value, contentType, cookie string, body []byte) (*http.Request, bool) {
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(rawRequest(method, target, name, value, contentType, cookie, body))))
	if err != nil || http.CanonicalHeaderKey(name) == "Host" || r.Method == "CONNECT" || r.ContentLength != int64(len(body)) {
		// A second Host header is refused by the server; CONNECT and
		// bodies of another length are outside this target.
		return nil, false
	}
	for k := range r.Header {
		if !isToken(k) {
			return nil, false // net/http's server refuses it: 400 invalid header name
		}
	}
	r.RemoteAddr = "192.0.2.1:54321"
	return r, true
}

// isToken reports whether s is an HTTP token (RFC 9110 §5.6.2), as a header
// name must be. http.ReadRequest lets "A " through; the server does not.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// serve sends the raw request through srv as net/http's server would.
func serve(srv http.Handler, method, target, name, value, contentType, cookie string, body []byte) *httptest.ResponseRecorder {
	r, _ := parseRequest(method, target, name, value, contentType, cookie, body)
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	return w
}

// checkEvent checks the event against the request it was made from.
func checkEvent(t *testing.T, r *http.Request, body []byte, ev events.APIGatewayV2HTTPRequest) {
	t.Helper()
	c := ev.RequestContext
	if ev.Version != "2.0" || ev.RouteKey != "POST "+httpapi.Path || c.RequestID != "fuzz-id" || c.Stage != "$default" {
		t.Fatalf("event version %q route %q id %q stage %q, want 2.0, POST %s, fuzz-id, $default", ev.Version, ev.RouteKey, c.RequestID, c.Stage, httpapi.Path)
	}
	if c.HTTP.Method != r.Method || c.HTTP.Path != r.URL.Path || ev.RawPath != r.URL.EscapedPath() || ev.RawQueryString != r.URL.RawQuery {
		t.Fatalf("event %s %s (raw %s ? %s), want %s %s (raw %s ? %s)",
			c.HTTP.Method, c.HTTP.Path, ev.RawPath, ev.RawQueryString, r.Method, r.URL.Path, r.URL.EscapedPath(), r.URL.RawQuery)
	}
	if c.HTTP.SourceIP != "192.0.2.1" {
		t.Fatalf("sourceIp %q, want 192.0.2.1", c.HTTP.SourceIP)
	}
	for k, v := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Fatalf("header name %q is not lower case, as API Gateway sends them", k)
		}
		if k == "cookie" {
			t.Fatalf("the Cookie header is in headers; API Gateway moves it to cookies")
		}
		if k == "host" {
			if v != r.Host {
				t.Fatalf("host header %q, want %q", v, r.Host)
			}
			continue
		}
		if want := strings.Join(r.Header.Values(k), ","); v != want {
			t.Fatalf("header %s = %q, want %q", k, v, want)
		}
	}
	for k := range r.Header {
		if _, ok := ev.Headers[strings.ToLower(k)]; !ok && k != "Cookie" {
			t.Fatalf("header %s was dropped", k)
		}
	}
	if len(r.Cookies()) != len(ev.Cookies) {
		t.Fatalf("%d cookies in the event, want %d", len(ev.Cookies), len(r.Cookies()))
	}
	got := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if got, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			t.Fatalf("the body is marked base64 but does not decode: %v", err)
		}
	} else if !utf8.ValidString(ev.Body) {
		t.Fatalf("a body that is not UTF-8 was passed as text: %q", ev.Body)
	}
	if !bytes.Equal(got, body) {
		t.Fatalf("event body %q, want %q", got, body)
	}
	// The runtime hands the handler the event as JSON: it must survive.
	if b, err := json.Marshal(ev); err != nil || !json.Valid(b) {
		t.Fatalf("the event does not marshal: %v", err)
	}
}

// checkAnswer checks a response of the real handler behind the server.
func checkAnswer(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	switch w.Code {
	case http.StatusOK:
		var got httpapi.Response
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatalf("200 with a body that does not decode: %v", err)
		}
		m := hmac.New(sha256.New, []byte("fuzz-ios-secret"))
		m.Write([]byte(fuzzUserID))
		if got.UserID != fuzzUserID || got.UserHash != hex.EncodeToString(m.Sum(nil)) {
			t.Fatalf("200 for user_id %q hash %s, want the verified user's hash only", got.UserID, got.UserHash)
		}
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound, http.StatusMethodNotAllowed:
		checkProblem(t, w, "")
	default:
		t.Fatalf("status %d, not one the local server documents: %s", w.Code, w.Body)
	}
}

// checkProblem checks that w holds a problem+json answer, with code if one
// is given.
func checkProblem(t *testing.T, w *httptest.ResponseRecorder, code httpapi.Code) {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d with Content-Type %q, want application/problem+json", w.Code, ct)
	}
	var p httpapi.Problem
	if err := json.NewDecoder(io.LimitReader(w.Body, 1<<20)).Decode(&p); err != nil {
		t.Fatalf("the problem does not decode: %v", err)
	}
	if p.Status != w.Code || p.Code.Status() != w.Code || (code != "" && p.Code != code) {
		t.Fatalf("problem %+v for status %d, want code %q", p, w.Code, code)
	}
}
