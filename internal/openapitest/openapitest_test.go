// Tests of openapi.yaml and of the checks: the description is valid, every
// code and status the handler gives validates against it, API Gateway's own
// answers do too, and a wrong answer is refused (the checks can fail).

package openapitest_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/intercom-identity/userhash/internal/eventstest"
	"github.com/intercom-identity/userhash/internal/openapitest"
	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

const path = httpapi.Path

const hash = "0e86805cbabd154914013aaefc21b484ad505aaa34c0eec39ed2ce578b21258f"

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func problem(code, typeCode string, status string) string {
	return `{"type":"` + httpapi.TypeBase + typeCode + `","title":"t","status":` + status + `,"detail":"d","code":"` + code + `"}`
}

// TestChecksRefuseWrongAnswers holds the checks to refusing answers that
// break the description, beside a right answer of each kind: a check that
// passes everything would prove nothing.
func TestChecksRefuseWrongAnswers(t *testing.T) {
	spec := openapitest.Load(t)
	ok200 := hdr("Content-Type", "application/json", "Cache-Control", "no-store", "X-Request-Id", "r-1")
	prob := func(kv ...string) http.Header {
		return hdr(append([]string{"Content-Type", "application/problem+json", "Cache-Control", "no-store", "X-Request-Id", "r-1"}, kv...)...)
	}
	gw := hdr("Content-Type", "application/json", "apigw-requestid", "Abc=")
	tests := []struct {
		name   string
		method string
		path   string
		status int
		header http.Header
		body   string
		valid  bool
	}{
		{"a hash with its JWT", "POST", path, 200, ok200, `{"platform":"ios","user_id":"u","email":"e@x","user_hash":"` + hash + `","user_jwt":"a.b.c","user_jwt_expires_at":"2026-11-25T16:04:05Z"}`, true},
		{"a hash over the email, no JWT", "POST", path, 200, ok200, `{"platform":"web","email":"e@x","user_hash":"` + hash + `"}`, true},
		{"a hash in upper case", "POST", path, 200, ok200, `{"platform":"ios","user_id":"u","user_hash":"` + strings.ToUpper(hash) + `"}`, false},
		{"a JWT without its expiry", "POST", path, 200, ok200, `{"platform":"ios","user_id":"u","user_hash":"` + hash + `","user_jwt":"a.b.c"}`, false},
		{"a hash for nobody", "POST", path, 200, ok200, `{"platform":"ios","user_hash":"` + hash + `"}`, false},
		{"a platform alias in the answer", "POST", path, 200, ok200, `{"platform":"iPhone","user_id":"u","user_hash":"` + hash + `"}`, false},
		{"a member the description lacks", "POST", path, 200, ok200, `{"platform":"ios","user_id":"u","user_hash":"` + hash + `","secret":"x"}`, false},
		{"a 200 that may be cached", "POST", path, 200, hdr("Content-Type", "application/json", "Cache-Control", "max-age=60", "X-Request-Id", "r"), `{"platform":"ios","user_id":"u","user_hash":"` + hash + `"}`, false},
		{"a 200 without X-Request-Id", "POST", path, 200, hdr("Content-Type", "application/json", "Cache-Control", "no-store"), `{"platform":"ios","user_id":"u","user_hash":"` + hash + `"}`, false},
		{"a problem for a 200", "POST", path, 200, prob(), problem("internal", "internal", "500"), false},

		{"invalid_request", "POST", path, 400, prob(), problem("invalid_request", "invalid_request", "400"), true},
		{"a code the description lacks", "POST", path, 400, prob(), problem("bad_input", "bad_input", "400"), false},
		{"a code under another status", "POST", path, 400, prob(), problem("unauthenticated", "unauthenticated", "401"), false},
		{"the type URI of another code", "POST", path, 400, prob(), problem("invalid_request", "unsupported_platform", "400"), false},
		{"a status member that is not the status", "POST", path, 400, prob(), problem("invalid_request", "invalid_request", "422"), false},
		{"a problem without detail", "POST", path, 400, prob(), `{"type":"` + httpapi.TypeBase + `invalid_request","title":"t","status":400,"code":"invalid_request"}`, false},
		{"a problem served as plain JSON", "POST", path, 400, hdr("Content-Type", "application/json", "Cache-Control", "no-store", "X-Request-Id", "r"), problem("invalid_request", "invalid_request", "400"), false},
		{"a problem without X-Request-Id", "POST", path, 401, hdr("Content-Type", "application/problem+json", "Cache-Control", "no-store"), problem("unauthenticated", "unauthenticated", "401"), false},
		{"405 with Allow", "GET", path, 405, prob("Allow", "POST"), problem("method_not_allowed", "method_not_allowed", "405"), true},
		{"405 without Allow", "GET", path, 405, prob(), problem("method_not_allowed", "method_not_allowed", "405"), false},
		{"405 whose Allow has no POST", "PUT", path, 405, prob("Allow", "GET"), problem("method_not_allowed", "method_not_allowed", "405"), false},
		{"secret_unavailable with Retry-After", "POST", path, 503, prob("Retry-After", "5"), problem("secret_unavailable", "secret_unavailable", "503"), true},
		{"secret_unavailable without Retry-After", "POST", path, 503, prob(), problem("secret_unavailable", "secret_unavailable", "503"), false},
		{"too_many_requests without Retry-After", "POST", path, 429, prob(), problem("too_many_requests", "too_many_requests", "429"), false},
		{"Retry-After as a date", "POST", path, 503, prob("Retry-After", "Wed, 25 Nov 2026 15:04:05 GMT"), problem("secret_unavailable", "secret_unavailable", "503"), false},
		{"not_found on another path", "POST", "/v2/other", 404, prob(), problem("not_found", "not_found", "404"), true},
		{"a hash on another path", "POST", "/v2/other", 200, ok200, `{"platform":"ios","user_id":"u","user_hash":"` + hash + `"}`, false},
		{"a status the description lacks", "POST", path, 418, prob(), problem("internal", "internal", "418"), false},

		{"the gateway's 401", "POST", path, 401, gw, `{"message":"Unauthorized"}`, true},
		{"the gateway's 429, no Retry-After", "POST", path, 429, gw, `{"message":"Too Many Requests"}`, true},
		{"the gateway's 503", "POST", path, 503, gw, `{"message":"Service Unavailable"}`, true},
		{"the gateway's 504", "POST", path, 504, gw, `{"message":"Gateway Timeout"}`, true},
		{"the gateway's 404 for GET", "GET", path, 404, gw, `{"message":"Not Found"}`, true},
		{"a gateway message under another status", "POST", path, 401, gw, `{"message":"Forbidden"}`, false},
		{"a gateway body with a code", "POST", path, 401, gw, `{"message":"Unauthorized","code":"unauthenticated"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := spec.Check(tt.method, tt.path, tt.status, tt.header, []byte(tt.body))
			if tt.valid && err != nil {
				t.Errorf("refused a right answer: %v", err)
			}
			if !tt.valid && err == nil {
				t.Errorf("accepted a wrong answer: %s %s %d %v %s", tt.method, tt.path, tt.status, tt.header, tt.body)
			}
		})
	}
}

// TestLoadRefusesABadDescription: an example that breaks its own schema,
// a reference to nothing, or a 3.0 document is refused.
func TestLoadRefusesABadDescription(t *testing.T) {
	good, err := os.ReadFile(openapitest.File())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, old, new string }{
		{"example against its schema", "value: {message: Not Found}", "value: {message: Nope}"},
		{"dangling reference", `$ref: "#/components/schemas/UserHash"`, `$ref: "#/components/schemas/NoSuchSchema"`},
		{"OpenAPI 3.0", "openapi: 3.1.0", "openapi: 3.0.3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(string(good), tt.old) {
				t.Fatalf("openapi.yaml has no %q to break", tt.old)
			}
			file := filepath.Join(t.TempDir(), "openapi.yaml")
			if err := os.WriteFile(file, []byte(strings.Replace(string(good), tt.old, tt.new, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := openapitest.LoadFile(file); err == nil {
				t.Errorf("a description with a broken %s loads", tt.name)
			}
		})
	}
}

// specCodes returns the enum of ProblemCode in openapi.yaml.
func specCodes(t *testing.T, spec *openapitest.Spec) []string {
	t.Helper()
	s := spec.Doc.Components.Schemas["ProblemCode"]
	if s == nil || s.Value == nil {
		t.Fatal("openapi.yaml has no ProblemCode schema")
	}
	var codes []string
	for _, v := range s.Value.Enum {
		codes = append(codes, v.(string))
	}
	return codes
}

// TestEveryCodeIsDescribed holds the description's code enum and the
// handler's codes to each other: each code's problem, as the handler
// writes it, validates at the code's status.
func TestEveryCodeIsDescribed(t *testing.T) {
	spec := openapitest.Load(t)
	codes := specCodes(t, spec)
	for _, c := range httpapi.Codes() {
		if !slices.Contains(codes, string(c)) {
			t.Errorf("the handler's code %s is not in openapi.yaml's ProblemCode", c)
		}
	}
	for _, code := range codes {
		t.Run(code, func(t *testing.T) {
			resp := httpapi.ProblemResponse(httpapi.Code(code), "a detail")
			if !strings.Contains(resp.Body, `"code":"`+code+`"`) {
				t.Fatalf("openapi.yaml describes %s, which the handler does not answer with", code)
			}
			resp.Headers["X-Request-Id"] = "r-1"
			method, p := "POST", path
			switch resp.StatusCode {
			case 405:
				method = "GET"
				resp.Headers["Allow"] = "POST"
			case 404:
				p = "/no/such/path"
			case 429, 503:
				resp.Headers["Retry-After"] = "3"
			}
			ev := events.APIGatewayV2HTTPRequest{RawPath: p}
			ev.RequestContext.HTTP.Method = method
			if err := spec.CheckEvent(ev, resp); err != nil {
				t.Error(err)
			}
		})
	}
}

// The answers of the real handler that no file in events/ produces: the
// failures of its dependencies.
type fakeSecrets func(platform.Platform) ([]byte, error)

func (f fakeSecrets) PlatformSecret(_ context.Context, p platform.Platform) ([]byte, error) {
	return f(p)
}

type fakePasswords func() (auth.Identity, error)

func (f fakePasswords) SignIn(context.Context, string, string) (auth.Identity, error) { return f() }

func TestHandlerAnswers(t *testing.T) {
	spec := openapitest.Load(t)
	good := fakeSecrets(func(platform.Platform) ([]byte, error) { return []byte("s"), nil })
	down := fakeSecrets(func(platform.Platform) ([]byte, error) {
		return nil, &secrets.UnavailableError{SecretID: "x", Reason: "throttled", Wait: 7 * time.Second, Err: errors.New("throttled")}
	})
	user := func(id auth.Identity, err error) httpapi.Option {
		return httpapi.WithPasswords(fakePasswords(func() (auth.Identity, error) { return id, err }))
	}
	alice := auth.Identity{UserID: "u-1", Email: "a@example.com"}
	tests := []struct {
		name   string
		src    httpapi.SecretSource
		opts   []httpapi.Option
		status int
	}{
		{"hash and JWT", good, []httpapi.Option{user(alice, nil)}, 200},
		{"no JWT when its lifetime is 0", good, []httpapi.Option{user(alice, nil), httpapi.WithUserJWTTTL(0)}, 200},
		{"email only", good, []httpapi.Option{user(auth.Identity{Email: "a@example.com"}, nil)}, 200},
		{"secret_unavailable", down, []httpapi.Option{user(alice, nil)}, 503},
		{"too_many_requests", good, []httpapi.Option{user(auth.Identity{}, auth.ErrThrottled)}, 429},
		{"challenge_required", good, []httpapi.Option{user(auth.Identity{}, &auth.ChallengeError{Challenge: "SMS_MFA"})}, 401},
		{"unauthenticated", good, []httpapi.Option{user(auth.Identity{}, auth.ErrUnauthenticated)}, 401},
		{"unidentified_user", good, []httpapi.Option{user(auth.Identity{}, nil)}, 403},
		{"internal", good, []httpapi.Option{user(auth.Identity{}, errors.New("something unexpected"))}, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := events.APIGatewayV2HTTPRequest{RawPath: path, Body: `{"username":"a","password":"p","platform":"iOS"}`}
			ev.RequestContext.HTTP.Method = "POST"
			ev.RequestContext.RequestID = "r-1"
			resp, err := httpapi.New(tt.src, platform.All(), tt.opts...).Handle(context.Background(), ev)
			if err != nil || resp.StatusCode != tt.status {
				t.Fatalf("Handle = %d %s, %v; want %d", resp.StatusCode, resp.Body, err, tt.status)
			}
			if err := spec.CheckEvent(ev, resp); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestGatewayAnswers validates what API Gateway answers itself to the
// requests of events/ that never reach the function in AWS.
func TestGatewayAnswers(t *testing.T) {
	spec := openapitest.Load(t)
	n := 0
	for _, name := range eventstest.Names(t) {
		gw := eventstest.Outcomes[name].Gateway
		if gw == nil {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			ev := eventstest.Load(t, name)
			h := hdr("Content-Type", "application/json", "apigw-requestid", "c6af9ac6")
			if err := spec.Check(ev.RequestContext.HTTP.Method, ev.RawPath, gw.Status, h, []byte(gw.Body)); err != nil {
				t.Errorf("API Gateway's own answer (%s): %v", gw.Why, err)
			}
		})
	}
	if n == 0 {
		t.Error("no event in eventstest.Outcomes has a Gateway answer")
	}
}
