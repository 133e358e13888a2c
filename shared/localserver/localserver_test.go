package localserver_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/localserver"
)

// recorder is a Lambda handler that keeps the event it got.
type recorder struct {
	got  events.APIGatewayV2HTTPRequest
	resp events.APIGatewayV2HTTPResponse
	err  error
}

func (r *recorder) handle(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r.got = ev
	return r.resp, r.err
}

// fakeVerifier accepts one token.
type fakeVerifier struct{ good string }

func (f fakeVerifier) Verify(_ context.Context, tok string) (map[string]string, error) {
	if tok == f.good {
		return map[string]string{"sub": "u-1", "email": "a@example.com"}, nil
	}
	return nil, errors.New("token rejected")
}

var _ localserver.TokenVerifier = fakeVerifier{}

func TestEventIsPayloadV2(t *testing.T) {
	rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "{}", Headers: map[string]string{"Content-Type": "application/json"}}}
	srv := httptest.NewServer(localserver.New(rec.handle))
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+httpapi.Path+"?a=1&a=2&b=x", strings.NewReader(`{"platform":"ios"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Custom", "one")
	req.Header.Add("X-Custom", "two")
	req.Header.Set("User-Agent", "test-agent")
	req.AddCookie(&http.Cookie{Name: "c", Value: "v"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ev := rec.got
	checks := []struct {
		name      string
		got, want any
	}{
		{"version", ev.Version, "2.0"},
		{"routeKey", ev.RouteKey, "POST " + httpapi.Path},
		{"rawPath", ev.RawPath, httpapi.Path},
		{"rawQueryString", ev.RawQueryString, "a=1&a=2&b=x"},
		{"query a", ev.QueryStringParameters["a"], "1,2"},
		{"header lower-cased and joined", ev.Headers["x-custom"], "one,two"},
		{"content-type", ev.Headers["content-type"], "application/json"},
		{"cookies", strings.Join(ev.Cookies, ";"), "c=v"},
		{"no cookie header", ev.Headers["cookie"], ""},
		{"method", ev.RequestContext.HTTP.Method, "POST"},
		{"path", ev.RequestContext.HTTP.Path, httpapi.Path},
		{"source ip", ev.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		{"user agent", ev.RequestContext.HTTP.UserAgent, "test-agent"},
		{"stage", ev.RequestContext.Stage, "$default"},
		{"body", ev.Body, `{"platform":"ios"}`},
		{"not base64", ev.IsBase64Encoded, false},
		{"no authorizer without a verifier", ev.RequestContext.Authorizer == nil, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if ev.RequestContext.RequestID == "" || ev.RequestContext.TimeEpoch == 0 {
		t.Errorf("request id %q, time %d: want both set", ev.RequestContext.RequestID, ev.RequestContext.TimeEpoch)
	}
	if _, err := time.Parse("02/Jan/2006:15:04:05 -0700", ev.RequestContext.Time); err != nil {
		t.Errorf("time %q is not in API Gateway's format: %v", ev.RequestContext.Time, err)
	}
}

func TestBinaryBodyIsBase64(t *testing.T) {
	rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 200}}
	srv := httptest.NewServer(localserver.New(rec.handle))
	defer srv.Close()
	body := "{\"platform\":\"ios\xff\"}"
	resp, err := http.Post(srv.URL+httpapi.Path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !rec.got.IsBase64Encoded {
		t.Fatal("invalid UTF-8 body not base64-encoded")
	}
	if b, _ := base64.StdEncoding.DecodeString(rec.got.Body); string(b) != body {
		t.Errorf("decoded body = %q, want %q", b, body)
	}
}

func TestOversizedBodyIsCutJustPastTheLimit(t *testing.T) {
	rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 200}}
	srv := httptest.NewServer(localserver.New(rec.handle))
	defer srv.Close()
	resp, err := http.Post(srv.URL+httpapi.Path, "application/json", strings.NewReader(strings.Repeat("a", 1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := len(rec.got.Body); got != httpapi.MaxBodyBytes+1 {
		t.Errorf("body passed on = %d bytes, want %d (enough for the handler to see it is over)", got, httpapi.MaxBodyBytes+1)
	}
}

func TestOtherPathsAreNotFound(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(localserver.New(rec.handle))
	defer srv.Close()
	for _, path := range []string{"/", "/v1/intercom/user-hash/", "/v1/intercom", "/V1/intercom/user-hash", "/v1/intercom/user-hash/../x"} {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var p httpapi.Problem
		if resp.StatusCode != 404 || json.Unmarshal(b, &p) != nil || p.Code != httpapi.CodeNotFound || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s, want 404 not_found problem+json", path, resp.StatusCode, b)
		}
	}
	if rec.got.Version != "" {
		t.Error("the handler was called for another path")
	}
}

func TestBearerTokens(t *testing.T) {
	tests := []struct {
		name   string
		authz  string
		claims bool
	}{
		{name: "valid", authz: "Bearer good", claims: true},
		{name: "scheme any case", authz: "bearer good", claims: true},
		{name: "bad token", authz: "Bearer bad"},
		{name: "no header"},
		{name: "basic auth", authz: "Basic Z29vZA=="},
		{name: "no token", authz: "Bearer "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 200}}
			srv := httptest.NewServer(localserver.New(rec.handle, localserver.WithVerifier(fakeVerifier{good: "good"})))
			defer srv.Close()
			req, _ := http.NewRequest("POST", srv.URL+httpapi.Path, strings.NewReader(`{}`))
			if tt.authz != "" {
				req.Header.Set("Authorization", tt.authz)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			a := rec.got.RequestContext.Authorizer
			if got := a != nil && a.JWT != nil && a.JWT.Claims["sub"] == "u-1"; got != tt.claims {
				t.Errorf("verified claims attached = %v, want %v", got, tt.claims)
			}
		})
	}
}

func TestHandlerErrorIsProblem(t *testing.T) {
	rec := &recorder{err: errors.New("secret detail")}
	srv := httptest.NewServer(localserver.New(rec.handle))
	defer srv.Close()
	resp, err := http.Post(srv.URL+httpapi.Path, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || strings.Contains(string(b), "secret detail") {
		t.Errorf("got %d %s, want 500 without the error text", resp.StatusCode, b)
	}
}

func TestServeShutsDownWithContext(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- localserver.Serve(ctx, l, http.NotFoundHandler()) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve() = %v, want nil after the context ends", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the context ended")
	}
}

func TestCORS(t *testing.T) {
	rec := &recorder{resp: events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "{}"}}
	srv := httptest.NewServer(localserver.New(rec.handle, localserver.WithCORS([]string{"capacitor://localhost", "http://localhost:8100"})))
	defer srv.Close()
	tests := []struct {
		name, method, origin string
		preflight            bool
		status               int
		allow                string
	}{
		{name: "preflight from Capacitor", method: "OPTIONS", origin: "capacitor://localhost", preflight: true, status: 204, allow: "capacitor://localhost"},
		{name: "preflight from ionic serve", method: "OPTIONS", origin: "http://localhost:8100", preflight: true, status: 204, allow: "http://localhost:8100"},
		{name: "preflight from elsewhere", method: "OPTIONS", origin: "https://evil.example", preflight: true, status: 200},
		{name: "POST from Capacitor", method: "POST", origin: "capacitor://localhost", status: 200, allow: "capacitor://localhost"},
		{name: "POST from elsewhere", method: "POST", origin: "https://evil.example", status: 200},
		{name: "no origin", method: "POST", status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+httpapi.Path, strings.NewReader(`{}`))
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.preflight {
				req.Header.Set("Access-Control-Request-Method", "POST")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status || resp.Header.Get("Access-Control-Allow-Origin") != tt.allow {
				t.Errorf("got %d, Access-Control-Allow-Origin %q; want %d, %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), tt.status, tt.allow)
			}
			// The client reads the request id and honours Retry-After.
			wantExpose := ""
			if tt.allow != "" {
				wantExpose = "X-Request-Id, Retry-After"
			}
			if got := resp.Header.Get("Access-Control-Expose-Headers"); got != wantExpose {
				t.Errorf("Access-Control-Expose-Headers = %q, want %q", got, wantExpose)
			}
		})
	}
}
