// The bad-input suite: hostile requests, sent over real HTTP to the built
// binary, in password mode (make run's demo setup) and in jwt mode (with a
// test OIDC issuer). Each must get its 4xx problem+json, none may be served
// a hash, nothing it carried may reach the log, and the server must still
// serve a good request afterwards.

package main_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/intercom-identity/userhash/internal/oidctest"
	"github.com/intercom-identity/userhash/internal/openapitest"
	"github.com/intercom-identity/userhash/shared/oidc"
)

// badRequest is one hostile request and the answer it must get.
type badRequest struct {
	name   string
	method string   // POST if empty
	path   string   // the API's path if empty
	header []string // name, value pairs; Content-Type is application/json unless given
	body   string
	// raw, if set, is sent over TCP as it is, for requests net/http's
	// client refuses to send; "HOST" in it is replaced by the server's.
	raw string

	status int
	code   string // the problem code; "" where net/http itself answers
}

// The strings no response or log line may contain: credentials, and the
// identities of the demo users and of the jwt-mode tokens.
var badSecrets = []string{
	"demo-password", "hunter2-unique-pw", "alice@example.com", "u-alice-1001", "u-bob-1002",
	"carol@example.com", "mallory.unique@example.com", "u-jwt-subject-77", "jwt.user@example.com",
}

// allHashes are the user hashes of every demo and jwt identity with every
// secret the servers hold: none may be served to a hostile request.
func allHashes() []string {
	var out []string
	for _, secret := range []string{"demo-ios-secret", "demo-android-secret", "demo-web-secret"} {
		for _, id := range []string{"u-alice-1001", "u-bob-1002", "carol@example.com", "alice@example.com", "u-jwt-subject-77", "jwt.user@example.com"} {
			out = append(out, independentHash(secret, id))
		}
	}
	return out
}

const okLogin = `"username": "alice@example.com", "password": "demo-password"`

func passwordModeRows() []badRequest {
	bigPad := strings.Repeat("a", 8<<10)
	nested := func(depth int, open, close string) string {
		return strings.Repeat(open, depth) + strings.Repeat(close, depth)
	}
	return []badRequest{
		// The method and the path.
		{name: "GET", method: "GET", status: 405, code: "method_not_allowed"},
		{name: "PUT", method: "PUT", body: `{` + okLogin + `, "platform": "ios"}`, status: 405, code: "method_not_allowed"},
		{name: "DELETE", method: "DELETE", status: 405, code: "method_not_allowed"},
		{name: "PATCH with a good body", method: "PATCH", body: `{` + okLogin + `, "platform": "ios"}`, status: 405, code: "method_not_allowed"},
		{name: "other path", path: "/v1/intercom/user-hash/extra", body: `{` + okLogin + `, "platform": "ios"}`, status: 404, code: "not_found"},
		{name: "path in upper case", path: "/V1/INTERCOM/USER-HASH", body: `{` + okLogin + `, "platform": "ios"}`, status: 404, code: "not_found"},
		{name: "path with dot segments", path: "/v1/intercom/x/../user-hash", body: `{` + okLogin + `, "platform": "ios"}`, status: 404, code: "not_found"},
		{name: "path with a trailing slash", path: "/v1/intercom/user-hash/", body: `{` + okLogin + `, "platform": "ios"}`, status: 404, code: "not_found"},

		// The body's form.
		{name: "empty body", body: ``, status: 400, code: "invalid_request"},
		{name: "whitespace body", body: " \n\t ", status: 400, code: "invalid_request"},
		{name: "null", body: `null`, status: 400, code: "invalid_request"},
		{name: "array of the good object", body: `[{` + okLogin + `, "platform": "ios"}]`, status: 400, code: "invalid_request"},
		{name: "a JSON string", body: `"alice@example.com"`, status: 400, code: "invalid_request"},
		{name: "a number", body: `42`, status: 400, code: "invalid_request"},
		{name: "truncated object", body: `{` + okLogin + `, "platform": "ios"`, status: 400, code: "invalid_request"},
		{name: "two objects", body: `{` + okLogin + `, "platform": "ios"} {"platform": "android"}`, status: 400, code: "invalid_request"},
		{name: "trailing garbage", body: `{` + okLogin + `, "platform": "ios"}x`, status: 400, code: "invalid_request"},
		{name: "comment in JSON", body: `{/* hi */` + okLogin + `, "platform": "ios"}`, status: 400, code: "invalid_request"},
		{name: "single quotes", body: `{'username': 'alice@example.com', 'password': 'demo-password', 'platform': 'ios'}`, status: 400, code: "invalid_request"},
		{name: "trailing comma", body: `{` + okLogin + `, "platform": "ios",}`, status: 400, code: "invalid_request"},
		{name: "byte order mark", body: "\ufeff{" + okLogin + `, "platform": "ios"}`, status: 400, code: "invalid_request"},
		{name: "good body padded to 8 KiB + 1", body: padded(`{`+okLogin+`, "platform": "ios"}`, 8<<10+1), status: 400, code: "invalid_request"},
		{name: "good body padded to a megabyte", body: padded(`{`+okLogin+`, "platform": "ios"}`, 1<<20), status: 400, code: "invalid_request"},
		{name: "platform of a megabyte", body: `{` + okLogin + `, "platform": "` + strings.Repeat(bigPad, 128) + `"}`, status: 400, code: "invalid_request"},
		{name: "deeply nested arrays", body: nested(100000, "[", "]"), status: 400, code: "invalid_request"},
		{name: "deeply nested platform", body: `{` + okLogin + `, "platform": ` + nested(4000, "[", "]") + `}`, status: 400, code: "invalid_request"},
		{name: "deeply nested objects", body: `{"username": ` + strings.Repeat(`{"a":`, 1500) + `1` + strings.Repeat(`}`, 1500) + `}`, status: 400, code: "invalid_request"},

		// Duplicate keys: whichever one a parser keeps, none is trusted.
		{name: "duplicate username", body: `{"username": "bob", ` + okLogin + `, "platform": "ios"}`, status: 400, code: "invalid_request"},
		{name: "duplicate password", body: `{` + okLogin + `, "password": "x", "platform": "ios"}`, status: 400, code: "invalid_request"},
		{name: "duplicate platform", body: `{` + okLogin + `, "platform": "ios", "platform": "android"}`, status: 400, code: "invalid_request"},
		{name: "duplicate key by escape", body: `{` + okLogin + `, "platform": "ios", "pl\u0061tform": "web"}`, status: 400, code: "invalid_request"},

		// Wrong types.
		{name: "username a number", body: `{"username": 1001, "password": "demo-password", "platform": "ios"}`, status: 400, code: "invalid_request"},
		{name: "password a number", body: `{"username": "alice@example.com", "password": 12345, "platform": "ios"}`, status: 400, code: "invalid_request"},
		{name: "password true", body: `{"username": "alice@example.com", "password": true, "platform": "ios"}`, status: 400, code: "invalid_request"},
		{name: "platform an array", body: `{` + okLogin + `, "platform": ["ios"]}`, status: 400, code: "invalid_request"},
		{name: "platform null", body: `{` + okLogin + `, "platform": null}`, status: 400, code: "invalid_request"},
		{name: "platform an object", body: `{` + okLogin + `, "platform": {"name": "ios"}}`, status: 400, code: "invalid_request"},
		{name: "platform a huge number", body: `{` + okLogin + `, "platform": 1e999999}`, status: 400, code: "invalid_request"},

		// Missing fields.
		{name: "no username", body: `{"password": "demo-password", "platform": "ios"}`, status: 400, code: "invalid_request"},
		{name: "no password", body: `{"username": "alice@example.com", "platform": "ios"}`, status: 400, code: "invalid_request"},
		{name: "no platform", body: `{` + okLogin + `}`, status: 400, code: "invalid_request"},
		{name: "empty object", body: `{}`, status: 400, code: "invalid_request"},

		// An identity in the body, beside good credentials: never used.
		{name: "good login with bob's user_id", body: `{` + okLogin + `, "platform": "ios", "user_id": "u-bob-1002"}`, status: 400, code: "invalid_request"},
		{name: "good login with an email", body: `{` + okLogin + `, "platform": "ios", "email": "carol@example.com"}`, status: 400, code: "invalid_request"},
		{name: "good login with userId", body: `{` + okLogin + `, "platform": "ios", "userId": "u-bob-1002"}`, status: 400, code: "invalid_request"},
		{name: "good login with a user_hash", body: `{` + okLogin + `, "platform": "ios", "user_hash": "00"}`, status: 400, code: "invalid_request"},
		{name: "user_id by escape", body: `{` + okLogin + `, "platform": "ios", "user\u005fid": "u-bob-1002"}`, status: 400, code: "invalid_request"},
		{name: "wrong password with bob's user_id", body: `{"username": "alice@example.com", "password": "hunter2-unique-pw", "platform": "ios", "user_id": "u-bob-1002"}`, status: 400, code: "invalid_request"},
		{name: "unknown field", body: `{` + okLogin + `, "platform": "ios", "admin": true}`, status: 400, code: "invalid_request"},
		{name: "__proto__", body: `{` + okLogin + `, "platform": "ios", "__proto__": {"admin": true}}`, status: 400, code: "invalid_request"},

		// NUL bytes and invalid UTF-8.
		{name: "raw NUL in a string", body: "{\"username\": \"alice@example.com\x00\", \"password\": \"demo-password\", \"platform\": \"ios\"}", status: 400, code: "invalid_request"},
		{name: "escaped NUL in the username", body: `{"username": "alice@example.com\u0000", "password": "demo-password", "platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "escaped NUL in the platform", body: `{` + okLogin + `, "platform": "ios\u0000"}`, status: 400, code: "unsupported_platform"},
		{name: "invalid UTF-8", body: "{\"username\": \"alice\xff\xfe\", \"password\": \"demo-password\", \"platform\": \"ios\"}", status: 400, code: "invalid_request"},
		{name: "overlong UTF-8 slash", body: "{\"username\": \"alice\xc0\xaf\", \"password\": \"demo-password\", \"platform\": \"ios\"}", status: 400, code: "invalid_request"},
		{name: "UTF-16 body", header: []string{"Content-Type", "application/json; charset=utf-16"}, body: "\xff\xfe{\x00}\x00", status: 400, code: "invalid_request"},
		{name: "lone surrogate in the username", body: `{"username": "\ud800alice@example.com", "password": "demo-password", "platform": "ios"}`, status: 401, code: "unauthenticated"},

		// Content types that are not JSON.
		{name: "form encoded", header: []string{"Content-Type", "application/x-www-form-urlencoded"}, body: "username=alice%40example.com&password=demo-password&platform=ios", status: 400, code: "invalid_request"},
		{name: "text/plain", header: []string{"Content-Type", "text/plain"}, body: `{` + okLogin + `, "platform": "ios"}`, status: 400, code: "invalid_request"},
		{name: "multipart", header: []string{"Content-Type", "multipart/form-data; boundary=x"}, body: "--x\r\n\r\n{}\r\n--x--", status: 400, code: "invalid_request"},
		{name: "malformed content type", header: []string{"Content-Type", ";;;=="}, body: `{` + okLogin + `, "platform": "ios"}`, status: 400, code: "invalid_request"},
		{name: "latin1 charset", header: []string{"Content-Type", "application/json; charset=latin1"}, body: `{` + okLogin + `, "platform": "ios"}`, status: 400, code: "invalid_request"},

		// Platforms that are not supported.
		{name: "empty platform", body: `{` + okLogin + `, "platform": ""}`, status: 400, code: "unsupported_platform"},
		{name: "platform with a space", body: `{` + okLogin + `, "platform": " ios"}`, status: 400, code: "unsupported_platform"},
		{name: "platform with a dotted capital I", body: `{` + okLogin + `, "platform": "İOS"}`, status: 400, code: "unsupported_platform"},
		{name: "platform of 7 KiB", body: `{` + okLogin + `, "platform": "` + bigPad[:7<<10] + `"}`, status: 400, code: "unsupported_platform"},
		{name: "platform windows", body: `{` + okLogin + `, "platform": "windows"}`, status: 400, code: "unsupported_platform"},

		// Credentials that are wrong, odd or absent.
		{name: "wrong password", body: `{"username": "alice@example.com", "password": "hunter2-unique-pw", "platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "unknown user", body: `{"username": "mallory.unique@example.com", "password": "demo-password", "platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "empty username", body: `{"username": "", "password": "demo-password", "platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "empty password", body: `{"username": "alice@example.com", "password": "", "platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "SQL in the username", body: `{"username": "' OR 1=1 --", "password": "demo-password", "platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "username in another case", body: `{"username": "ALICE@example.com", "password": "demo-password", "platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "password of 7 KiB", body: `{"username": "alice@example.com", "password": "` + bigPad[:7<<10] + `", "platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "password of 100 bytes (bcrypt reads 72)", body: `{"username": "alice@example.com", "password": "` + strings.Repeat("p", 100) + `", "platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "the right password padded past 72 bytes", body: `{"username": "alice@example.com", "password": "demo-password` + strings.Repeat(" ", 80) + `", "platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "password of 100 bytes for an unknown user", body: `{"username": "mallory.unique@example.com", "password": "` + strings.Repeat("p", 100) + `", "platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "the right password with a trailing space", body: `{"username": "alice@example.com", "password": "demo-password ", "platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "anonymous user", body: `{"username": "anon", "password": "demo-password", "platform": "ios"}`, status: 403, code: "unidentified_user"},

		// Headers.
		// net/http refuses headers past MaxHeaderBytes (64 KiB, plus its
		// read buffer's slack) with its own plain-text 431.
		{name: "header of 100 KiB (answered by net/http)", header: []string{"X-Padding", strings.Repeat("p", 100<<10)}, body: `{` + okLogin + `, "platform": "ios"}`, status: 431},
		{name: "header of 20 KiB with a wrong password", header: []string{"X-Padding", strings.Repeat("p", 20<<10)}, body: `{"username": "alice@example.com", "password": "hunter2-unique-pw", "platform": "ios"}`, status: 401, code: "unauthenticated"},
		// Since Go 1.27 net/http also refuses more than 500 header values
		// (Server.MaxHeaderValueCount) with its 431.
		{name: "400 headers and an identity in the body", header: manyHeaders(400), body: `{` + okLogin + `, "platform": "ios", "user_id": "u-bob-1002"}`, status: 400, code: "invalid_request"},
		{name: "600 headers (answered by net/http)", header: manyHeaders(600), body: `{` + okLogin + `, "platform": "ios"}`, status: 431},
		{name: "a bearer token in password mode changes nothing", header: []string{"Authorization", "Bearer forged.token.value"}, body: `{"username": "alice@example.com", "password": "hunter2-unique-pw", "platform": "ios"}`, status: 401, code: "unauthenticated"},
		{
			name:   "control character in a header value (answered by net/http)",
			raw:    "POST /v1/intercom/user-hash HTTP/1.1\r\nHost: HOST\r\nX-Evil: a\x01b\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
			status: 400,
		},
		{
			name:   "space in a header name (answered by net/http)",
			raw:    "POST /v1/intercom/user-hash HTTP/1.1\r\nHost: HOST\r\nX Evil: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
			status: 400,
		},
		{
			name:   "chunked body over 8 KiB",
			raw:    "POST /v1/intercom/user-hash HTTP/1.1\r\nHost: HOST\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunked(padded(`{`+okLogin+`, "platform": "ios"}`, 32<<10)),
			status: 400,
			code:   "invalid_request",
		},
	}
}

// padded pads a JSON body with trailing spaces, which JSON allows, to n
// bytes: only its size is wrong.
func padded(body string, n int) string {
	return body + strings.Repeat(" ", n-len(body))
}

// manyHeaders returns n distinct headers.
func manyHeaders(n int) []string {
	var h []string
	for i := range n {
		h = append(h, fmt.Sprintf("X-Header-%d", i), "value")
	}
	return h
}

// chunked encodes body in chunks of 1000 bytes.
func chunked(body string) string {
	var b strings.Builder
	for len(body) > 0 {
		n := min(len(body), 1000)
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

func TestBadInputPasswordMode(t *testing.T) {
	s := start(t, DemoEnv())
	rows := passwordModeRows()
	runBadRequests(t, s, rows)

	// The server still serves, and serves the right hash.
	status, _, body := s.Post(t, `{"username": "alice@example.com", "password": "demo-password", "platform": "ios"}`)
	var got success
	if err := json.Unmarshal(body, &got); status != 200 || err != nil || got.UserHash != independentHash("demo-ios-secret", "u-alice-1001") {
		t.Fatalf("after the hostile requests: status %d, body %s; want 200 with alice's iOS hash", status, body)
	}
	checkLogClean(t, s, len(rows))
}

func TestBadInputJWTMode(t *testing.T) {
	iss := oidctest.New(t)
	const aud = "userhash-badinput"
	started := time.Now() // before the server's first key set download
	s := start(t, map[string]string{
		"AUTH_MODE":      "jwt",
		"JWT_ISSUER":     iss.URL,
		"JWT_AUDIENCE":   aud,
		"IOS_SECRET":     "demo-ios-secret",
		"ANDROID_SECRET": "demo-android-secret",
		"WEB_SECRET":     "demo-web-secret",
	})
	claims := func(edit func(map[string]any)) map[string]any {
		c := iss.Claims(aud, "u-jwt-subject-77")
		c["email"] = "jwt.user@example.com"
		edit(c)
		return c
	}
	good := iss.Sign(t, claims(func(map[string]any) {}))
	bearer := func(tok string) []string { return []string{"Authorization", "Bearer " + tok} }
	stranger := oidctest.NewKey(t, "RS256") // never published

	rows := []badRequest{
		{name: "no token", body: `{"platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "garbage token", header: bearer("not-a-jwt"), body: `{"platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "Basic credentials", header: []string{"Authorization", "Basic YWxpY2U6cGFzcw=="}, body: `{"platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "alg none", header: bearer(iss.SignNone(t, claims(func(map[string]any) {}))), body: `{"platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "HS256 with the public key", header: bearer(iss.SignHS256WithPublicKey(t, claims(func(map[string]any) {}))), body: `{"platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "unpublished key", header: bearer(stranger.Sign(t, claims(func(map[string]any) {}))), body: `{"platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "tampered signature", header: bearer(good[:len(good)-4] + "AAAA"), body: `{"platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "expired", header: bearer(iss.Sign(t, claims(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }))), body: `{"platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "wrong audience", header: bearer(iss.Sign(t, claims(func(c map[string]any) { c["aud"] = "someone-else" }))), body: `{"platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "wrong issuer", header: bearer(iss.Sign(t, claims(func(c map[string]any) { c["iss"] = "https://evil.example" }))), body: `{"platform": "ios"}`, status: 401, code: "unauthenticated"},
		{name: "claims with sub null and no email", header: bearer(iss.Sign(t, claims(func(c map[string]any) { c["sub"] = nil; delete(c, "email") }))), body: `{"platform": "ios"}`, status: 403, code: "unidentified_user"},
		{name: "claims with sub and email empty", header: bearer(iss.Sign(t, claims(func(c map[string]any) { c["sub"] = ""; c["email"] = "" }))), body: `{"platform": "ios"}`, status: 403, code: "unidentified_user"},
		{name: "claims with email null and no sub", header: bearer(iss.Sign(t, claims(func(c map[string]any) { delete(c, "sub"); c["email"] = nil }))), body: `{"platform": "ios"}`, status: 403, code: "unidentified_user"},
		// Someone else's email in a token that does not prove it:
		// without a user_id, never a hash of that email.
		{name: "unverified email (JSON false), no sub", header: bearer(iss.Sign(t, claims(func(c map[string]any) { delete(c, "sub"); c["email_verified"] = false }))), body: `{"platform": "ios"}`, status: 403, code: "unidentified_user"},
		{name: "unverified email (string false), no sub", header: bearer(iss.Sign(t, claims(func(c map[string]any) { delete(c, "sub"); c["email_verified"] = "false" }))), body: `{"platform": "ios"}`, status: 403, code: "unidentified_user"},
		{name: "email without email_verified, no sub", header: bearer(iss.Sign(t, claims(func(c map[string]any) { delete(c, "sub") }))), body: `{"platform": "ios"}`, status: 403, code: "unidentified_user"},
		{name: "email_verified True, no sub", header: bearer(iss.Sign(t, claims(func(c map[string]any) { delete(c, "sub"); c["email_verified"] = "True" }))), body: `{"platform": "ios"}`, status: 403, code: "unidentified_user"},
		{name: "email_verified 1, no sub", header: bearer(iss.Sign(t, claims(func(c map[string]any) { delete(c, "sub"); c["email_verified"] = 1 }))), body: `{"platform": "ios"}`, status: 403, code: "unidentified_user"},
		{name: "email_verified [true], no sub", header: bearer(iss.Sign(t, claims(func(c map[string]any) { delete(c, "sub"); c["email_verified"] = []any{true} }))), body: `{"platform": "ios"}`, status: 403, code: "unidentified_user"},
		{name: "email_verified {\"value\": true}, no sub", header: bearer(iss.Sign(t, claims(func(c map[string]any) { delete(c, "sub"); c["email_verified"] = map[string]any{"value": true} }))), body: `{"platform": "ios"}`, status: 403, code: "unidentified_user"},
		{name: "email_verified null, no sub", header: bearer(iss.Sign(t, claims(func(c map[string]any) { delete(c, "sub"); c["email_verified"] = nil }))), body: `{"platform": "ios"}`, status: 403, code: "unidentified_user"},
		{name: "verified flag under another name, no sub", header: bearer(iss.Sign(t, claims(func(c map[string]any) { delete(c, "sub"); c["Email_Verified"] = true; c["email_verified "] = true }))), body: `{"platform": "ios"}`, status: 403, code: "unidentified_user"},
		{name: "unverified email, an empty sub", header: bearer(iss.Sign(t, claims(func(c map[string]any) { c["sub"] = ""; c["email_verified"] = false }))), body: `{"platform": "ios"}`, status: 403, code: "unidentified_user"},
		{name: "good token, bob's user_id in the body", header: bearer(good), body: `{"platform": "ios", "user_id": "u-bob-1002"}`, status: 400, code: "invalid_request"},
		{name: "good token, a sub in the body", header: bearer(good), body: `{"platform": "ios", "sub": "u-bob-1002"}`, status: 400, code: "invalid_request"},
		{name: "good token, password-mode body", header: bearer(good), body: `{` + okLogin + `, "platform": "ios"}`, status: 400, code: "invalid_request"},
		{name: "good token, unknown platform", header: bearer(good), body: `{"platform": "symbian"}`, status: 400, code: "unsupported_platform"},
		{name: "good token, GET", method: "GET", header: bearer(good), status: 405, code: "method_not_allowed"},
		{name: "good token, nested body", header: bearer(good), body: strings.Repeat("[", 50000), status: 400, code: "invalid_request"},
		{name: "bad token, bad body: the body's form is checked first", header: bearer("not-a-jwt"), body: `{"platform": 7}`, status: 400, code: "invalid_request"},
	}
	runBadRequests(t, s, rows)

	// Fifty tokens at once, each naming a key the issuer never published:
	// the issuer's key set is downloaded at most once per 30 s whatever
	// arrives, so at most once in all unless the suite ran that long.
	parts := strings.Split(good, ".")
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			h := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"alg":"RS256","kid":"made-up-key-%d"}`, i)))
			status, _, body := s.Post(t, `{"platform": "ios"}`, bearer(h+"."+parts[1]+"."+parts[2])...)
			if status != 401 {
				t.Errorf("token %d with a made-up key ID: status %d, want 401; body %.300s", i, status, body)
			}
		})
	}
	wg.Wait()
	if got, allowed := iss.JWKSFetches(), 1+int(time.Since(started)/oidc.KeyRefreshInterval); got > allowed {
		t.Errorf("the issuer's key set was downloaded %d times, want at most once per 30 s (%d)", got, allowed)
	}

	status, _, body := s.Post(t, `{"platform": "android"}`, bearer(good)...)
	var got success
	if err := json.Unmarshal(body, &got); status != 200 || err != nil || got.UserHash != independentHash("demo-android-secret", "u-jwt-subject-77") {
		t.Fatalf("after the hostile requests: status %d, body %s; want 200 with the token subject's Android hash", status, body)
	}
	if strings.Contains(string(body), "jwt.user@example.com") {
		t.Errorf("the good token's email has no email_verified, but the answer carries it: %s", body)
	}
	// No part of any token sent, payload or signature, is in the log.
	log := s.Log()
	for _, row := range rows {
		if len(row.header) < 2 || !strings.HasPrefix(row.header[1], "Bearer ") {
			continue
		}
		parts := strings.Split(strings.TrimPrefix(row.header[1], "Bearer "), ".")
		for _, part := range parts[1:] {
			if len(part) >= 8 && strings.Contains(log, part) {
				t.Errorf("row %q: the log contains a segment of its bearer token", row.name)
			}
		}
	}
	checkLogClean(t, s, len(rows))
}

// runBadRequests sends each row and checks its answer, and holds each
// answer of ours to openapi.yaml.
func runBadRequests(t *testing.T, s *Server, rows []badRequest) {
	t.Helper()
	spec := openapitest.Load(t)
	hashes := allHashes()
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			status, header, body := sendBad(t, s, row)
			if status != row.status {
				t.Fatalf("status %d, want %d; body %.300s", status, row.status, body)
			}
			if status < 400 || status > 499 {
				t.Fatalf("status %d is not a 4xx", status)
			}
			for _, h := range hashes {
				if strings.Contains(string(body), h) {
					t.Fatalf("the answer carries a user hash: %.300s", body)
				}
			}
			for _, secret := range badSecrets {
				if strings.Contains(string(body), secret) {
					t.Fatalf("the answer echoes %q: %.300s", secret, body)
				}
			}
			if row.code == "" {
				return // net/http's own answer, before our code runs
			}
			if err := spec.Check(rowMethod(row), rowPath(row), status, header, body); err != nil {
				t.Errorf("the answer breaks openapi.yaml: %v", err)
			}
			if ct := header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q, want application/problem+json; body %.300s", ct, body)
			}
			var p problem
			dec := json.NewDecoder(strings.NewReader(string(body)))
			if err := dec.Decode(&p); err != nil {
				t.Fatalf("the problem does not decode: %v: %.300s", err, body)
			}
			if p.Code != row.code || p.Status != status || p.Type == "" || p.Title == "" || p.Detail == "" {
				t.Fatalf("problem %+v, want code %s and status %d with type, title and detail", p, row.code, status)
			}
			if status == 405 && header.Get("Allow") == "" {
				t.Errorf("405 without an Allow header")
			}
		})
	}
}

// sendBad sends one row, through net/http's client or, for raw rows, a
// bare TCP connection.
func sendBad(t *testing.T, s *Server, row badRequest) (int, http.Header, []byte) {
	t.Helper()
	if row.raw != "" {
		u, err := url.Parse(s.Base)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.WriteString(conn, strings.ReplaceAll(row.raw, "HOST", u.Host)); err != nil {
			t.Fatalf("write: %v", err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("read the answer: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}
	method, path := rowMethod(row), rowPath(row)
	req, err := http.NewRequest(method, s.Base+path, strings.NewReader(row.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(row.header); i += 2 {
		req.Header.Set(row.header[i], row.header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// rowMethod is the row's method, POST unless it says.
func rowMethod(row badRequest) string {
	if row.method == "" {
		return http.MethodPost
	}
	return row.method
}

// rowPath is the row's path, the API's unless it says; a raw row's is in
// its request line.
func rowPath(row badRequest) string {
	if row.raw != "" {
		_, rest, _ := strings.Cut(row.raw, " ")
		p, _, _ := strings.Cut(rest, " ")
		return p
	}
	if row.path == "" {
		return "/v1/intercom/user-hash"
	}
	return row.path
}

// checkLogClean checks that the log holds no credential or identity, and
// one request line per request that reached the handler.
func checkLogClean(t *testing.T, s *Server, rows int) {
	t.Helper()
	log := s.Log()
	for _, secret := range append(badSecrets, allHashes()...) {
		if strings.Contains(log, secret) {
			t.Errorf("the log contains %q", secret)
		}
	}
	requests := 0
	for _, line := range s.LogLines(t) {
		if line["msg"] == "request" {
			requests++
		}
	}
	// Rows that net/http answers never reach the handler; the rest do.
	if requests < rows/2 {
		t.Errorf("the log has %d request lines for %d rows: the suite may not be reaching the handler", requests, rows)
	}
}
