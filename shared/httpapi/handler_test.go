package httpapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"

	"github.com/intercom-identity/userhash/internal/eventstest"
	"github.com/intercom-identity/userhash/internal/openapitest"
	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// The secrets every test serves with.
var testSecrets = secrets.Static{
	platform.IOS:     []byte("ios-test-secret"),
	platform.Android: []byte("android-test-secret"),
	platform.Web:     []byte("web-test-secret"),
}

var fixedNow = time.Date(2026, 11, 25, 15, 4, 5, 0, time.UTC)

// fakeSecrets is a SecretSource whose answer a test chooses.
type fakeSecrets struct {
	get func(ctx context.Context, p platform.Platform) ([]byte, error)
}

func (f fakeSecrets) PlatformSecret(ctx context.Context, p platform.Platform) ([]byte, error) {
	return f.get(ctx, p)
}

var _ httpapi.SecretSource = fakeSecrets{}

// fakePasswords is a PasswordChecker whose answer a test chooses.
type fakePasswords struct {
	signIn func(ctx context.Context, username, password string) (auth.Identity, error)
}

func (f fakePasswords) SignIn(ctx context.Context, u, p string) (auth.Identity, error) {
	return f.signIn(ctx, u, p)
}

var _ httpapi.PasswordChecker = fakePasswords{}

func hmacHex(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func newHandler(log *bytes.Buffer, opts ...httpapi.Option) *httpapi.Handler {
	if log == nil {
		log = &bytes.Buffer{}
	}
	base := []httpapi.Option{
		httpapi.WithClock(func() time.Time { return fixedNow }),
		httpapi.WithLogger(slog.New(slog.NewJSONHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	}
	return httpapi.New(testSecrets, platform.All(), append(base, opts...)...)
}

func demoUsers(t testing.TB) *auth.UsersFile {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "demo", "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u, err := auth.LoadUsersFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

type successBody struct {
	Platform string `json:"platform"`
	UserID   string `json:"user_id"`
	Email    string `json:"email"`
	UserHash string `json:"user_hash"`
	UserJWT  string `json:"user_jwt"`
	Expires  string `json:"user_jwt_expires_at"`
}

type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

// checkProblem asserts resp is a well-formed problem+json with code.
func checkProblem(t *testing.T, resp events.APIGatewayV2HTTPResponse, status int, code string) problemBody {
	t.Helper()
	var p problemBody
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatalf("body is not JSON: %q", resp.Body)
	}
	if resp.StatusCode != status || p.Code != code {
		t.Fatalf("got %d %s (%s), want %d %s", resp.StatusCode, p.Code, p.Detail, status, code)
	}
	if got := resp.Headers["Content-Type"]; got != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", got)
	}
	if p.Status != status || p.Type != httpapi.TypeBase+code || p.Title == "" || p.Detail == "" {
		t.Errorf("problem = %+v, want status %d, type for %s, a title and a detail", p, status, code)
	}
	var fields map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &fields)
	if len(fields) != 5 {
		t.Errorf("problem has members %v, want exactly type, title, status, detail, code", fields)
	}
	return p
}

// TestEvents runs every file in events/ (the ones `sam local invoke -e`
// takes) through the handler in the mode it is written for, and holds each
// answer to openapi.yaml.
func TestEvents(t *testing.T) {
	spec := openapitest.Load(t)
	for _, name := range eventstest.Names(t) {
		t.Run(name, func(t *testing.T) {
			tt := eventstest.Outcomes[name]
			opts := []httpapi.Option{httpapi.WithClaims(eventsMapping(t))}
			if tt.Password {
				opts = append(opts, httpapi.WithPasswords(demoUsers(t)))
			}
			ev := eventstest.Load(t, name)
			resp, err := newHandler(nil, opts...).Handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("Handle returned error %v, want nil always", err)
			}
			if err := spec.CheckEvent(ev, resp); err != nil {
				t.Errorf("the answer breaks openapi.yaml: %v", err)
			}
			if resp.Headers["Cache-Control"] != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", resp.Headers["Cache-Control"])
			}
			if got, want := resp.Headers["X-Request-Id"], "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"; got != want {
				t.Errorf("X-Request-Id = %q, want the event's request id %q", got, want)
			}
			if tt.Code != "" {
				checkProblem(t, resp, tt.Status, tt.Code)
				return
			}
			if resp.StatusCode != 200 || resp.Headers["Content-Type"] != "application/json" {
				t.Fatalf("got %d %s %s, want 200 application/json", resp.StatusCode, resp.Headers["Content-Type"], resp.Body)
			}
			var got successBody
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatal(err)
			}
			secret := string(testSecrets[mustParse(t, tt.Platform)])
			want := successBody{Platform: tt.Platform, UserID: tt.UserID, Email: tt.Email, UserHash: hmacHex(secret, tt.HashOver)}
			if tt.UserID != "" {
				want.UserJWT, want.Expires = got.UserJWT, "2026-11-25T16:04:05Z"
				checkJWT(t, got.UserJWT, secret, tt.UserID, tt.Email, tt.Attributes)
			} else if got.UserJWT != "" || got.Expires != "" {
				t.Errorf("got a JWT for a user without user_id: %+v", got)
			}
			if got != want {
				t.Errorf("body = %+v\nwant   %+v", got, want)
			}
		})
	}
}

func mustParse(t *testing.T, name string) platform.Platform {
	t.Helper()
	p, err := platform.Parse(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// eventsMapping is the default claim mapping with the signed attributes
// the events are run with.
func eventsMapping(t *testing.T) auth.ClaimMapping {
	t.Helper()
	attrs, err := auth.ParseAttributes(eventstest.JWTAttributes)
	if err != nil {
		t.Fatal(err)
	}
	m := auth.DefaultClaimMapping()
	m.Attributes = attrs
	return m
}

// checkJWT verifies the user_jwt with the platform secret and checks its
// payload is exactly user_id, iat, exp, the email when one is known (and
// none otherwise) and attrs.
func checkJWT(t *testing.T, tok, secret, userID, email string, attrs map[string]string) {
	t.Helper()
	parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte(secret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return fixedNow }))
	if err != nil {
		t.Fatalf("user_jwt does not verify with the platform secret: %v", err)
	}
	want := jwt.MapClaims{"user_id": userID, "iat": float64(fixedNow.Unix()), "exp": float64(fixedNow.Add(time.Hour).Unix())}
	if email != "" {
		want["email"] = email
	}
	for k, v := range attrs {
		want[k] = v
	}
	if got := parsed.Claims.(jwt.MapClaims); !reflect.DeepEqual(got, want) {
		t.Errorf("user_jwt claims = %v\nwant            %v", got, want)
	}
}

// jwtEvent returns a POST event with verified claims and body.
func jwtEvent(body string, claims map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "POST " + httpapi.Path,
		RawPath:  httpapi.Path,
		Headers:  map[string]string{"content-type": "application/json"},
		Body:     body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-1",
			HTTP:      events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: httpapi.Path},
		},
	}
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	return ev
}

func decodeSuccess(t *testing.T, resp events.APIGatewayV2HTTPResponse) successBody {
	t.Helper()
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d %s, want 200", resp.StatusCode, resp.Body)
	}
	var got successBody
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestPlatformPicksItsOwnSecret checks the most common integration bug
// cannot happen: each platform name is served with its own secret only.
func TestPlatformPicksItsOwnSecret(t *testing.T) {
	h := newHandler(nil)
	claims := map[string]string{"sub": "u-1"}
	for _, tt := range []struct{ name, secret string }{
		{"iPhone", "ios-test-secret"}, {"iOS", "ios-test-secret"}, {"ipad", "ios-test-secret"},
		{"iPhone Simulator", "ios-test-secret"}, {"Android", "android-test-secret"},
		{"browser", "web-test-secret"}, {"WEB", "web-test-secret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := h.Handle(context.Background(), jwtEvent(`{"platform":"`+tt.name+`"}`, claims))
			if got := decodeSuccess(t, resp).UserHash; got != hmacHex(tt.secret, "u-1") {
				t.Errorf("user_hash = %s, want HMAC with %s", got, tt.secret)
			}
		})
	}
}

// TestUnconfiguredPlatformNeverFallsBack checks that a platform without a
// secret is refused rather than served with another platform's secret.
func TestUnconfiguredPlatformNeverFallsBack(t *testing.T) {
	h := httpapi.New(secrets.Static{platform.IOS: []byte("ios-test-secret")}, []platform.Platform{platform.IOS})
	resp, _ := h.Handle(context.Background(), jwtEvent(`{"platform":"android"}`, map[string]string{"sub": "u-1"}))
	p := checkProblem(t, resp, 400, "unsupported_platform")
	if !strings.Contains(p.Detail, "ios") || strings.Contains(p.Detail, "android") {
		t.Errorf("detail = %q, want it to list only the supported ios", p.Detail)
	}
}

// TestIdentityComesOnlyFromClaims checks the mapping of configured claims,
// and that the hash is over the user_id whenever there is one.
func TestIdentityComesOnlyFromClaims(t *testing.T) {
	tests := []struct {
		name     string
		mapping  auth.ClaimMapping
		claims   map[string]string
		userID   string
		email    string
		hashOver string
	}{
		{name: "default sub and email", mapping: auth.DefaultClaimMapping(), claims: map[string]string{"sub": "s-1", "email": "e@example.com", "email_verified": "true"}, userID: "s-1", email: "e@example.com", hashOver: "s-1"},
		{name: "custom user_id claim", mapping: auth.ClaimMapping{UserID: "custom:intercom_id", Email: "email"}, claims: map[string]string{"sub": "s-1", "custom:intercom_id": "ic-9", "email": "e@example.com", "email_verified": "true"}, userID: "ic-9", email: "e@example.com", hashOver: "ic-9"},
		{name: "custom claim missing falls to email", mapping: auth.ClaimMapping{UserID: "custom:intercom_id", Email: "email"}, claims: map[string]string{"sub": "s-1", "email": "e@example.com", "email_verified": "true"}, email: "e@example.com", hashOver: "e@example.com"},
		{name: "identifier kept byte for byte", mapping: auth.DefaultClaimMapping(), claims: map[string]string{"sub": " MiXeD-Case ", "email": "E@Example.COM", "email_verified": "true"}, userID: " MiXeD-Case ", email: "E@Example.COM", hashOver: " MiXeD-Case "},
		{name: "empty user_id claim is unknown", mapping: auth.DefaultClaimMapping(), claims: map[string]string{"sub": "", "email": "e@example.com", "email_verified": "true"}, email: "e@example.com", hashOver: "e@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(nil, httpapi.WithClaims(tt.mapping))
			got := decodeSuccess(t, must(h.Handle(context.Background(), jwtEvent(`{"platform":"ios"}`, tt.claims))))
			if got.UserID != tt.userID || got.Email != tt.email || got.UserHash != hmacHex("ios-test-secret", tt.hashOver) {
				t.Errorf("got %+v, want user_id %q, email %q, hash over %q", got, tt.userID, tt.email, tt.hashOver)
			}
		})
	}
}

func must(resp events.APIGatewayV2HTTPResponse, err error) events.APIGatewayV2HTTPResponse {
	if err != nil {
		panic(err)
	}
	return resp
}

func TestNoJWTWhenTTLIsZero(t *testing.T) {
	h := newHandler(nil, httpapi.WithUserJWTTTL(0))
	got := decodeSuccess(t, must(h.Handle(context.Background(), jwtEvent(`{"platform":"ios"}`, map[string]string{"sub": "u-1"}))))
	if got.UserJWT != "" || got.Expires != "" || got.UserHash == "" {
		t.Errorf("got %+v, want a hash and no JWT", got)
	}
	if strings.Contains(must(h.Handle(context.Background(), jwtEvent(`{"platform":"ios"}`, map[string]string{"sub": "u-1"}))).Body, "user_jwt") {
		t.Error("body mentions user_jwt, want the fields absent")
	}
}

// TestCheckOrder checks that the first failing check answers, in the
// documented order: method, body, platform, credentials, identity, secret.
func TestCheckOrder(t *testing.T) {
	down := fakeSecrets{get: func(context.Context, platform.Platform) ([]byte, error) {
		return nil, &secrets.UnavailableError{SecretID: "ios", Reason: "throttled", Wait: 2500 * time.Millisecond, Err: errors.New("ThrottlingException")}
	}}
	h := httpapi.New(down, platform.All())
	tests := []struct {
		name   string
		ev     events.APIGatewayV2HTTPRequest
		status int
		code   string
	}{
		{name: "method before body", ev: withMethod(jwtEvent(`nonsense`, nil), "PUT"), status: 405, code: "method_not_allowed"},
		{name: "body before platform", ev: jwtEvent(`{"platform":1}`, nil), status: 400, code: "invalid_request"},
		{name: "platform before credentials", ev: jwtEvent(`{"platform":"symbian"}`, nil), status: 400, code: "unsupported_platform"},
		{name: "credentials before identity", ev: jwtEvent(`{"platform":"ios"}`, nil), status: 401, code: "unauthenticated"},
		{name: "identity before secret", ev: jwtEvent(`{"platform":"ios"}`, map[string]string{"iss": "x"}), status: 403, code: "unidentified_user"},
		{name: "secret last", ev: jwtEvent(`{"platform":"ios"}`, map[string]string{"sub": "u"}), status: 503, code: "secret_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := must(h.Handle(context.Background(), tt.ev))
			checkProblem(t, resp, tt.status, tt.code)
			if tt.code == "method_not_allowed" && resp.Headers["Allow"] != "POST" {
				t.Errorf("Allow = %q, want POST", resp.Headers["Allow"])
			}
			if tt.code == "secret_unavailable" && resp.Headers["Retry-After"] != "3" {
				t.Errorf("Retry-After = %q, want 3 (2.5s rounded up)", resp.Headers["Retry-After"])
			}
		})
	}
}

func withMethod(ev events.APIGatewayV2HTTPRequest, m string) events.APIGatewayV2HTTPRequest {
	ev.RequestContext.HTTP.Method = m
	return ev
}

// TestMalformedRequests feeds requests a buggy or hostile client sends;
// each is a 400 invalid_request and the handler stays usable.
func TestMalformedRequests(t *testing.T) {
	claims := map[string]string{"sub": "u-1"}
	big := `{"platform":"ios","x":"` + strings.Repeat("a", 9000) + `"}`
	tests := []struct {
		name        string
		body        string
		contentType string
		base64      bool
	}{
		{name: "empty body", body: ``},
		{name: "white space only", body: "  \n\t"},
		{name: "not JSON", body: `platform=ios`},
		{name: "truncated object", body: `{"platform":"ios"`},
		{name: "array", body: `["ios"]`},
		{name: "string", body: `"ios"`},
		{name: "number", body: `42`},
		{name: "null", body: `null`},
		{name: "platform a number", body: `{"platform":1}`},
		{name: "platform null", body: `{"platform":null}`},
		{name: "platform an object", body: `{"platform":{"name":"ios"}}`},
		{name: "platform an array", body: `{"platform":["ios"]}`},
		{name: "platform a bool", body: `{"platform":true}`},
		{name: "missing platform", body: `{}`},
		{name: "unknown field", body: `{"platform":"ios","device":"x"}`},
		{name: "user_id smuggled in the body", body: `{"platform":"ios","user_id":"victim"}`},
		{name: "email smuggled in the body", body: `{"platform":"ios","email":"victim@example.com"}`},
		{name: "duplicate key", body: `{"platform":"android","platform":"ios"}`},
		{name: "trailing data", body: `{"platform":"ios"} {"platform":"ios"}`},
		{name: "trailing garbage", body: `{"platform":"ios"}x`},
		{name: "deeply nested", body: `{"platform":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`},
		{name: "over 8 KiB", body: big},
		{name: "over 8 KiB base64", body: base64.StdEncoding.EncodeToString([]byte(big)), base64: true},
		{name: "invalid base64", body: "!!!", base64: true},
		{name: "invalid UTF-8", body: "{\"platform\":\"ios\xff\"}"},
		{name: "invalid UTF-8 base64", body: base64.StdEncoding.EncodeToString([]byte("{\"platform\":\"\xc3\x28\"}")), base64: true},
		{name: "form content type", body: `{"platform":"ios"}`, contentType: "application/x-www-form-urlencoded"},
		{name: "text content type", body: `{"platform":"ios"}`, contentType: "text/plain"},
		{name: "malformed content type", body: `{"platform":"ios"}`, contentType: "application/json; charset"},
		{name: "latin-1 charset", body: `{"platform":"ios"}`, contentType: "application/json; charset=iso-8859-1"},
		{name: "single quotes", body: `{'platform':'ios'}`},
		{name: "comment", body: `{"platform":"ios" /* c */}`},
		{name: "trailing comma", body: `{"platform":"ios",}`},
	}
	h := newHandler(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := jwtEvent(tt.body, claims)
			ev.IsBase64Encoded = tt.base64
			if tt.contentType != "" {
				ev.Headers["content-type"] = tt.contentType
			}
			p := checkProblem(t, must(h.Handle(context.Background(), ev)), 400, "invalid_request")
			if strings.Contains(p.Detail, "victim") {
				t.Errorf("detail %q echoes the smuggled identity", p.Detail)
			}
		})
	}
	// Still serving.
	decodeSuccess(t, must(h.Handle(context.Background(), jwtEvent(`{"platform":"ios"}`, claims))))
}

func TestAcceptedForms(t *testing.T) {
	h := newHandler(nil)
	claims := map[string]string{"sub": "u-1"}
	for _, tt := range []struct {
		name, body, contentType string
		base64                  bool
	}{
		{name: "no content type", body: `{"platform":"ios"}`},
		{name: "charset utf-8", body: `{"platform":"ios"}`, contentType: "application/json; charset=UTF-8"},
		{name: "vendor json", body: `{"platform":"ios"}`, contentType: "application/vnd.api+json"},
		{name: "base64 body", body: base64.StdEncoding.EncodeToString([]byte(`{"platform":"ios"}`)), base64: true},
		{name: "white space around", body: " \n{ \"platform\" : \"ios\" }\n"},
		{name: "escaped platform", body: `{"platform":"\u0069OS"}`},
		{name: "exactly 8 KiB", body: `{"platform":"ios"}` + strings.Repeat(" ", 8192-len(`{"platform":"ios"}`))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev := jwtEvent(tt.body, claims)
			ev.IsBase64Encoded = tt.base64
			delete(ev.Headers, "content-type")
			if tt.contentType != "" {
				ev.Headers["Content-Type"] = tt.contentType
			}
			decodeSuccess(t, must(h.Handle(context.Background(), ev)))
		})
	}
}

// TestPasswordMode covers sign-in failures and their mapping.
func TestPasswordMode(t *testing.T) {
	users := demoUsers(t)
	body := func(u, p string) string {
		b, _ := json.Marshal(map[string]string{"username": u, "password": p, "platform": "ios"})
		return string(b)
	}
	tests := []struct {
		name    string
		checker httpapi.PasswordChecker
		body    string
		status  int
		code    string
		retry   string // the Retry-After header, where one is due
	}{
		{name: "right password", checker: users, body: body("bob", "demo-password"), status: 200},
		{name: "wrong password", checker: users, body: body("bob", "nope"), status: 401, code: "unauthenticated"},
		{name: "unknown user", checker: users, body: body("nobody", "nope"), status: 401, code: "unauthenticated"},
		{name: "empty password", checker: users, body: body("bob", ""), status: 401, code: "unauthenticated"},
		{name: "empty username", checker: users, body: body("", "demo-password"), status: 401, code: "unauthenticated"},
		{name: "missing password", checker: users, body: `{"username":"bob","platform":"ios"}`, status: 400, code: "invalid_request"},
		{name: "missing username", checker: users, body: `{"password":"x","platform":"ios"}`, status: 400, code: "invalid_request"},
		{name: "password a number", checker: users, body: `{"username":"bob","password":1234,"platform":"ios"}`, status: 400, code: "invalid_request"},
		{name: "user_id in the body", checker: users, body: `{"username":"bob","password":"demo-password","platform":"ios","user_id":"victim"}`, status: 400, code: "invalid_request"},
		{name: "anonymous user", checker: users, body: body("anon", "demo-password"), status: 403, code: "unidentified_user"},
		{name: "throttled", checker: fakePasswords{signIn: func(context.Context, string, string) (auth.Identity, error) {
			return auth.Identity{}, auth.ErrThrottled
		}}, body: body("bob", "x"), status: 429, code: "too_many_requests", retry: "1"},
		{name: "locked out, with a Retry-After of its own", checker: fakePasswords{signIn: func(context.Context, string, string) (auth.Identity, error) {
			return auth.Identity{}, &auth.TryLaterError{Reason: auth.ErrThrottled, Wait: time.Minute, Err: errors.New("Password attempts exceeded")}
		}}, body: body("bob", "x"), status: 429, code: "too_many_requests", retry: "60"},
		{name: "identity provider unavailable", checker: fakePasswords{signIn: func(context.Context, string, string) (auth.Identity, error) {
			return auth.Identity{}, &auth.TryLaterError{Reason: auth.ErrUnavailable, Wait: 4500 * time.Millisecond, Err: errors.New("InternalErrorException at 10.0.0.1")}
		}}, body: body("bob", "x"), status: 503, code: "identity_unavailable", retry: "5"},
		{name: "identity provider unavailable, no time given", checker: fakePasswords{signIn: func(context.Context, string, string) (auth.Identity, error) {
			return auth.Identity{}, fmt.Errorf("sign in: %w", auth.ErrUnavailable)
		}}, body: body("bob", "x"), status: 503, code: "identity_unavailable", retry: "1"},
		{name: "challenge", checker: fakePasswords{signIn: func(context.Context, string, string) (auth.Identity, error) {
			return auth.Identity{}, &auth.ChallengeError{Challenge: "NEW_PASSWORD_REQUIRED"}
		}}, body: body("bob", "x"), status: 401, code: "challenge_required"},
		{name: "client secret unavailable", checker: fakePasswords{signIn: func(context.Context, string, string) (auth.Identity, error) {
			return auth.Identity{}, fmt.Errorf("secret hash: %w", &secrets.UnavailableError{SecretID: "cognito-client", Reason: "throttled", Wait: 4 * time.Second})
		}}, body: body("bob", "x"), status: 503, code: "secret_unavailable", retry: "4"},
		{name: "provider failure", checker: fakePasswords{signIn: func(context.Context, string, string) (auth.Identity, error) {
			return auth.Identity{}, errors.New("InternalErrorException: boom at 10.0.0.1")
		}}, body: body("bob", "x"), status: 500, code: "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHandler(nil, httpapi.WithPasswords(tt.checker))
			resp := must(h.Handle(context.Background(), jwtEvent(tt.body, nil)))
			if tt.status == 200 {
				if got := decodeSuccess(t, resp); got.UserHash != hmacHex("ios-test-secret", "u-bob-1002") {
					t.Errorf("user_hash = %s, want HMAC over u-bob-1002", got.UserHash)
				}
				return
			}
			p := checkProblem(t, resp, tt.status, tt.code)
			if got := resp.Headers["Retry-After"]; got != tt.retry {
				t.Errorf("Retry-After = %q, want %q", got, tt.retry)
			}
			if tt.code == "challenge_required" && !strings.Contains(p.Detail, "NEW_PASSWORD_REQUIRED") {
				t.Errorf("detail = %q, want it to name the challenge", p.Detail)
			}
			if strings.Contains(resp.Body, "boom") || strings.Contains(resp.Body, "10.0.0.1") {
				t.Errorf("body %s leaks the dependency's error", resp.Body)
			}
		})
	}
}

// TestPasswordModeIgnoresClaims checks that password mode does not take an
// identity from an authorizer block.
func TestPasswordModeIgnoresClaims(t *testing.T) {
	h := newHandler(nil, httpapi.WithPasswords(demoUsers(t)))
	resp := must(h.Handle(context.Background(), jwtEvent(`{"username":"bob","password":"nope","platform":"ios"}`, map[string]string{"sub": "victim"})))
	checkProblem(t, resp, 401, "unauthenticated")
}

func TestSecretFailures(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		retry  string
	}{
		{name: "unavailable", err: &secrets.UnavailableError{SecretID: "arn:ios", Reason: "not_found", Wait: 30 * time.Second, Err: errors.New("ResourceNotFoundException")}, status: 503, code: "secret_unavailable", retry: "30"},
		{name: "unavailable, retry now", err: &secrets.UnavailableError{SecretID: "arn:ios", Reason: "timeout"}, status: 503, code: "secret_unavailable", retry: "1"},
		{name: "anything else", err: errors.New("unexpected"), status: 500, code: "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			src := fakeSecrets{get: func(context.Context, platform.Platform) ([]byte, error) { return nil, tt.err }}
			h := httpapi.New(src, platform.All(), httpapi.WithLogger(slog.New(slog.NewJSONHandler(&log, nil))))
			resp := must(h.Handle(context.Background(), jwtEvent(`{"platform":"ios"}`, map[string]string{"sub": "u"})))
			checkProblem(t, resp, tt.status, tt.code)
			if resp.Headers["Retry-After"] != tt.retry {
				t.Errorf("Retry-After = %q, want %q", resp.Headers["Retry-After"], tt.retry)
			}
			if strings.Contains(resp.Body, "arn:ios") || strings.Contains(resp.Body, "Exception") || strings.Contains(resp.Body, "unexpected") {
				t.Errorf("body %s leaks the cause", resp.Body)
			}
			if !strings.Contains(log.String(), tt.err.Error()) {
				t.Errorf("log %s does not carry the cause", log.String())
			}
		})
	}
}

// TestLogsNothingSensitive sends known secrets, passwords, identifiers and
// tokens through every outcome and checks that none of them, nor any hash
// or JWT the handler made, appears in the log; and that each request has
// exactly one line with its id, platform, code and duration.
func TestLogsNothingSensitive(t *testing.T) {
	const (
		secret   = "sekret-ios-PLATFORM-value"
		userID   = "uid-SENSITIVE-4711"
		email    = "person.SENSITIVE@example.com"
		username = "login-SENSITIVE-name"
		password = "pw-SENSITIVE-hunter2"
		bearer   = "eyJhbGciOiJSUzI1NiJ9.SENSITIVE-TOKEN.sig"
	)
	var log bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	src := secrets.Static{platform.IOS: []byte(secret)}
	users := fakePasswords{signIn: func(_ context.Context, u, p string) (auth.Identity, error) {
		switch {
		case u == username && p == password:
			return auth.Identity{UserID: userID, Email: email}, nil
		case u == "throttle":
			return auth.Identity{}, auth.ErrThrottled
		case u == "challenge":
			return auth.Identity{}, &auth.ChallengeError{Challenge: "SMS_MFA"}
		}
		return auth.Identity{}, auth.ErrUnauthenticated
	}}
	signedName := auth.DefaultClaimMapping()
	signedName.Attributes = []auth.Attribute{{Name: "name", Claim: "name"}}
	jwtMode := httpapi.New(src, []platform.Platform{platform.IOS}, httpapi.WithLogger(logger), httpapi.WithClaims(signedName))
	pwMode := httpapi.New(src, []platform.Platform{platform.IOS}, httpapi.WithLogger(logger), httpapi.WithPasswords(users))
	claims := map[string]string{"sub": userID, "email": email, "email_verified": "true", "name": "Name-SENSITIVE-attribute"}
	withBearer := func(ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPRequest {
		ev.Headers["authorization"] = "Bearer " + bearer
		return ev
	}
	pw := func(u, p string) string {
		b, _ := json.Marshal(map[string]string{"username": u, "password": p, "platform": "ios"})
		return string(b)
	}
	cases := []struct {
		h  *httpapi.Handler
		ev events.APIGatewayV2HTTPRequest
	}{
		{jwtMode, withBearer(jwtEvent(`{"platform":"ios"}`, claims))},
		{jwtMode, withBearer(jwtEvent(`{"platform":"ios"}`, map[string]string{"email": email, "email_verified": "true"}))},
		{jwtMode, withBearer(jwtEvent(`{"platform":"ios"}`, map[string]string{"email": email, "email_verified": "false"}))},
		{jwtMode, withBearer(jwtEvent(`{"platform":"ios"}`, map[string]string{"sub": userID, "email": email, "email_verified": "false"}))},
		{jwtMode, withBearer(jwtEvent(`{"platform":"android"}`, claims))},
		{jwtMode, withBearer(jwtEvent(`{"platform":"ios","user_id":"`+userID+`"}`, claims))},
		{jwtMode, withBearer(jwtEvent(`{"platform":"`+email+`"}`, claims))},
		{jwtMode, withBearer(jwtEvent(`{"platform":"ios"}`, map[string]string{"iss": "x"}))},
		{jwtMode, withBearer(jwtEvent(`{"platform":"ios"}`, nil))},
		{jwtMode, withMethod(withBearer(jwtEvent(`{"platform":"ios"}`, claims)), "GET")},
		{pwMode, jwtEvent(pw(username, password), nil)},
		{pwMode, jwtEvent(pw(username, "wrong-"+password), nil)},
		{pwMode, jwtEvent(pw("throttle", password), nil)},
		{pwMode, jwtEvent(pw("challenge", password), nil)},
		{pwMode, jwtEvent(`{"username":"`+username+`","password":"`+password+`"}`, nil)},
		{pwMode, jwtEvent(`{"username":"`+username+`","password":"`+password+`","platform":"ios","email":"`+email+`"}`, nil)},
	}
	var made []string // every hash and JWT handed out
	for i, c := range cases {
		c.ev.RequestContext.RequestID = "req-" + string(rune('a'+i))
		resp := must(c.h.Handle(context.Background(), c.ev))
		var s successBody
		if json.Unmarshal([]byte(resp.Body), &s) == nil && s.UserHash != "" {
			made = append(made, s.UserHash, s.UserJWT)
		}
	}
	if len(made) < 2 {
		t.Fatalf("only %d successes; the test must cover success too", len(made)/2)
	}
	out := log.String()
	for _, bad := range append([]string{secret, userID, email, username, password, bearer, "SENSITIVE", "hunter2"}, made...) {
		if bad != "" && strings.Contains(out, bad) {
			t.Errorf("log contains %q:\n%s", bad, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(cases) {
		t.Fatalf("%d log lines for %d requests, want one each:\n%s", len(lines), len(cases), out)
	}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %s", i, line)
		}
		for _, k := range []string{"request_id", "platform", "code", "status", "duration_ms"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d lacks %s: %s", i, k, line)
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !slices.Contains([]string{"time", "level", "msg", "request_id", "platform", "code", "status", "duration_ms", "error"}, k) {
				t.Errorf("line %d has unexpected attribute %q", i, k)
			}
		}
	}
	if !regexp.MustCompile(`"request_id":"req-a".*"platform":"ios".*"code":"ok"`).MatchString(lines[0]) {
		t.Errorf("first line = %s, want request id, platform and code ok", lines[0])
	}
}

// TestObserver checks the metrics seam sees every outcome.
func TestObserver(t *testing.T) {
	var got []httpapi.Outcome
	h := newHandler(nil, httpapi.WithObserver(func(o httpapi.Outcome) { got = append(got, o) }))
	must(h.Handle(context.Background(), jwtEvent(`{"platform":"android"}`, map[string]string{"sub": "u"})))
	must(h.Handle(context.Background(), jwtEvent(`{"platform":"nope"}`, map[string]string{"sub": "u"})))
	if len(got) != 2 || got[0].Code != httpapi.CodeOK || got[0].Platform != platform.Android || got[0].Status != 200 ||
		got[1].Code != httpapi.CodeUnsupportedPlatform || got[1].Status != 400 || got[1].Platform.Valid() {
		t.Errorf("outcomes = %+v", got)
	}
}
