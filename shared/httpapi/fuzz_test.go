// Fuzz targets for the handler: whatever arrives, Handle answers with a
// documented status and a well-formed body, hashes only the authenticated
// identity, and decodes bodies exactly as encoding/json reads them. Seed
// corpora are in testdata/fuzz; run one with
//
//	go test -run '^$' -fuzz '^FuzzRequestBody$' -fuzztime 30s ./shared/httpapi

package httpapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/crypto/bcrypt"

	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// The fuzzed handlers serve iOS and Android; web has no secret, so that a
// fuzzer that finds "web" must see it refused, never served another secret.
var fuzzSecrets = secrets.Static{
	platform.IOS:     []byte("fuzz-ios-secret"),
	platform.Android: []byte("fuzz-android-secret"),
}

var fuzzPlatforms = []platform.Platform{platform.IOS, platform.Android}

// The only identities a fuzzed handler may ever hash.
const (
	fuzzClaimSub   = "u-from-claims"
	fuzzClaimEmail = "claims@example.com"
	fuzzUser       = "fuzz-user"
	fuzzPassword   = "fuzz-password"
	fuzzUserID     = "u-from-users-file"
	fuzzAnonUser   = "fuzz-anon"
)

// fuzzUsers is a users file with one known user and one anonymous one, at
// bcrypt's lowest cost so that the fuzzer runs thousands of sign-ins.
func fuzzUsers(f *testing.F) *auth.UsersFile {
	f.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(fuzzPassword), bcrypt.MinCost)
	if err != nil {
		f.Fatal(err)
	}
	list, _ := json.Marshal([]auth.User{
		{Username: fuzzUser, PasswordBcrypt: string(h), UserID: fuzzUserID},
		{Username: fuzzAnonUser, PasswordBcrypt: string(h)},
	})
	users, err := auth.LoadUsersFile(bytes.NewReader(list))
	if err != nil {
		f.Fatal(err)
	}
	return users
}

// fuzzEvent builds an event as API Gateway would send it.
func fuzzEvent(method, contentType, body string, b64 bool, claims map[string]string) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "POST " + httpapi.Path, RawPath: httpapi.Path, Headers: map[string]string{}}
	if contentType != "" {
		ev.Headers["content-type"] = contentType
	}
	ev.Body = body
	if b64 {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
	}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.RequestID = "fuzz-request"
	if claims != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims},
		}
	}
	return ev
}

// FuzzRequestBody checks the body decoder against encoding/json: a body is
// accepted exactly when it is at most 8 KiB of UTF-8 holding one JSON
// object whose only member is a string "platform", given once; and then
// the answer is a hash of the verified claims' user_id with that
// platform's secret, or unsupported_platform.
func FuzzRequestBody(f *testing.F) {
	for _, seed := range []string{
		`{"platform": "ios"}`,
		`{"platform": "iPhone Simulator"}`,
		`{"platform":"web"}`,
		`{"platform": "ios", "platform": "android"}`,
		`{"platform": "ios", "user_id": "victim"}`,
		`{"platform": null}`,
		`{"platform": 1}`,
		`[{"platform": "ios"}]`,
		`{"platform": "ios"} {}`,
		`{"platform": "\u0069os"}`,
		"\xef\xbb\xbf{\"platform\": \"ios\"}",
		`{"platform": "ios",}`,
		``,
	} {
		f.Add(seed, "application/json", false)
	}
	var observed httpapi.Outcome
	h := httpapi.New(fuzzSecrets, fuzzPlatforms, httpapi.WithObserver(func(o httpapi.Outcome) { observed = o }))
	claims := map[string]string{"sub": fuzzClaimSub, "email": fuzzClaimEmail, "email_verified": "true"}

	f.Fuzz(func(t *testing.T, body, contentType string, b64 bool) {
		resp, err := h.Handle(context.Background(), fuzzEvent("POST", contentType, body, b64, claims))
		if err != nil {
			t.Fatalf("Handle returned an error: %v", err)
		}
		checkFuzzResponse(t, resp, observed, []int{200, 400})
		if resp.StatusCode == 200 {
			checkFuzzSuccess(t, resp, fuzzClaimSub, fuzzClaimEmail)
		}

		// The differential check, for the content types that are JSON
		// beyond doubt; others are checked for the invariants above.
		switch contentType {
		case "", "application/json", "application/json; charset=utf-8":
		default:
			return
		}
		wantCode := httpapi.CodeInvalidRequest
		if fs, ok := referenceFields([]byte(body)); ok && len(body) <= httpapi.MaxBodyBytes && len(fs) == 1 {
			if name, ok := fs["platform"]; ok {
				wantCode = httpapi.CodeUnsupportedPlatform
				if p, err := platform.Parse(name); err == nil && p != platform.Web {
					wantCode = httpapi.CodeOK
				}
			}
		}
		if observed.Code != wantCode {
			t.Fatalf("body %q (content type %q, base64 %v) got %s, want %s: %s", body, contentType, b64, observed.Code, wantCode, resp.Body)
		}
	})
}

// FuzzHandle varies everything a caller or the gateway controls, in both
// modes, and checks that every answer is documented and well formed, and
// that a 200 only ever hashes the authenticated identity.
func FuzzHandle(f *testing.F) {
	f.Add("POST", "application/json", `{"platform": "ios"}`, false, false, fuzzClaimSub, fuzzClaimEmail, true)
	f.Add("POST", "application/json", `{"platform": "android", "user_id": "victim"}`, false, false, fuzzClaimSub, "", true)
	f.Add("POST", "", `{"platform": "ios"}`, false, false, "", "", true)
	f.Add("POST", "", `{"platform": "ios"}`, false, false, "", "", false)
	f.Add("GET", "", ``, false, false, "", "", false)
	f.Add("POST", "application/json", `{"username": "fuzz-user", "password": "fuzz-password", "platform": "Android"}`, false, true, "", "", false)
	f.Add("POST", "application/json", `{"username": "fuzz-anon", "password": "fuzz-password", "platform": "ios"}`, false, true, "", "", false)
	f.Add("POST", "application/json", `{"username": "fuzz-user", "password": "fuzz-password", "platform": "ios", "user_id": "victim"}`, true, true, "", "", false)
	f.Add("POST", "text/plain", `{"username": "", "password": "", "platform": "ios"}`, false, true, "", "", false)

	users := fuzzUsers(f)
	var observed httpapi.Outcome
	observe := httpapi.WithObserver(func(o httpapi.Outcome) { observed = o })
	jwtMode := httpapi.New(fuzzSecrets, fuzzPlatforms, observe)
	passwordMode := httpapi.New(fuzzSecrets, fuzzPlatforms, observe, httpapi.WithPasswords(users))

	f.Fuzz(func(t *testing.T, method, contentType, body string, b64, password bool, sub, email string, authorizer bool) {
		if password {
			resp, err := passwordMode.Handle(context.Background(), fuzzEvent(method, contentType, body, b64, nil))
			if err != nil {
				t.Fatalf("Handle returned an error: %v", err)
			}
			checkFuzzResponse(t, resp, observed, []int{200, 400, 401, 403, 405})
			if resp.StatusCode == 200 {
				checkFuzzSuccess(t, resp, fuzzUserID, "")
			}
			return
		}
		// The same claims twice: with the email verified, it counts; with
		// email_verified "false", it is unknown.
		for _, verified := range []bool{true, false} {
			var claims map[string]string
			if authorizer {
				claims = map[string]string{}
				if sub != "" {
					claims["sub"] = sub
				}
				if email != "" {
					claims["email"] = email
					claims["email_verified"] = fmt.Sprint(verified)
				}
			}
			resp, err := jwtMode.Handle(context.Background(), fuzzEvent(method, contentType, body, b64, claims))
			if err != nil {
				t.Fatalf("Handle returned an error: %v", err)
			}
			wantEmail := ""
			if verified {
				wantEmail = claims["email"]
			}
			allowed := []int{200, 400, 401, 403, 405}
			if !utf8.ValidString(sub) || !utf8.ValidString(wantEmail) {
				// An identity the JSON answer cannot carry as hashed: an
				// internal error, never a hash of another string.
				allowed = append(allowed, 500)
			}
			checkFuzzResponse(t, resp, observed, allowed)
			if resp.StatusCode == 200 {
				checkFuzzSuccess(t, resp, claims["sub"], wantEmail)
			}
		}
	})
}

// checkFuzzResponse checks what every answer must be: a status from
// allowed, the headers the API documents, and either a success body or a
// problem whose code, status and type agree; and the observer told the
// same.
func checkFuzzResponse(t *testing.T, resp events.APIGatewayV2HTTPResponse, observed httpapi.Outcome, allowed []int) {
	t.Helper()
	ok := false
	for _, s := range allowed {
		ok = ok || resp.StatusCode == s
	}
	if !ok {
		t.Fatalf("status %d, want one of %v: %s", resp.StatusCode, allowed, resp.Body)
	}
	if observed.Status != resp.StatusCode {
		t.Fatalf("the observer saw status %d, the response has %d", observed.Status, resp.StatusCode)
	}
	if got := resp.Headers["Cache-Control"]; got != "no-store" {
		t.Fatalf("Cache-Control = %q, want no-store", got)
	}
	if !utf8.ValidString(resp.Body) || !json.Valid([]byte(resp.Body)) {
		t.Fatalf("the body is not valid UTF-8 JSON: %q", resp.Body)
	}
	if resp.StatusCode == 200 {
		if got := resp.Headers["Content-Type"]; got != "application/json" {
			t.Fatalf("Content-Type = %q, want application/json", got)
		}
		if observed.Code != httpapi.CodeOK {
			t.Fatalf("the observer saw code %q for a 200", observed.Code)
		}
		return
	}
	if got := resp.Headers["Content-Type"]; got != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", got)
	}
	var p httpapi.Problem
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("the problem does not decode: %v: %s", err, resp.Body)
	}
	if p.Status != resp.StatusCode || p.Code.Status() != resp.StatusCode || p.Type != httpapi.TypeBase+string(p.Code) ||
		p.Title == "" || p.Detail == "" || p.Code != observed.Code {
		t.Fatalf("problem %+v does not agree with status %d and observed code %q", p, resp.StatusCode, observed.Code)
	}
	if resp.StatusCode == 405 && resp.Headers["Allow"] != "POST" {
		t.Fatalf("405 without Allow: POST")
	}
}

// checkFuzzSuccess checks that a 200 is the hash (and JWT) of exactly the
// authenticated identity: the user_id when there is one, else the email.
func checkFuzzSuccess(t *testing.T, resp events.APIGatewayV2HTTPResponse, userID, email string) {
	t.Helper()
	var got httpapi.Response
	dec := json.NewDecoder(strings.NewReader(resp.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("the success body does not decode: %v: %s", err, resp.Body)
	}
	p, err := platform.Parse(got.Platform)
	secret, serr := fuzzSecrets.PlatformSecret(context.Background(), p)
	if err != nil || serr != nil || p.String() != got.Platform {
		t.Fatalf("200 for platform %q, which has no secret here", got.Platform)
	}
	if got.UserID != userID || got.Email != email {
		t.Fatalf("200 for user_id %q email %q, want the authenticated %q %q", got.UserID, got.Email, userID, email)
	}
	msg := userID
	if msg == "" {
		msg = email
	}
	if msg == "" {
		t.Fatalf("200 for an anonymous user")
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(msg))
	if want := hex.EncodeToString(m.Sum(nil)); got.UserHash != want {
		t.Fatalf("user_hash %s, want HMAC-SHA256 of the authenticated identifier with the %s secret, %s", got.UserHash, p, want)
	}
	if (got.UserJWT != "") != (userID != "") {
		t.Fatalf("user_jwt present = %v, want it exactly when a user_id is known", got.UserJWT != "")
	}
	if got.UserJWT != "" {
		// The JWT's payload says what the body says: user_id, and the
		// email only when one counted.
		payload := jwtPayload(t, got.UserJWT)
		if payload["user_id"] != userID {
			t.Fatalf("user_jwt user_id = %v, want %q", payload["user_id"], userID)
		}
		if e, ok := payload["email"]; ok != (email != "") || (ok && e != email) {
			t.Fatalf("user_jwt email = %v (present %v), want %q", e, ok, email)
		}
	}
}

// jwtPayload decodes a JWT's payload without checking it; the handler
// tests check signatures.
func jwtPayload(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("user_jwt %q is not three parts", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	var payload map[string]any
	if err != nil || json.Unmarshal(b, &payload) != nil {
		t.Fatalf("user_jwt payload %q is not base64url JSON", parts[1])
	}
	return payload
}

// referenceFields reads body as encoding/json does: one JSON object and
// nothing after it, every member a string, no member twice.
func referenceFields(body []byte) (map[string]string, bool) {
	if !utf8.Valid(body) || !json.Valid(body) {
		return nil, false
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		return nil, false
	}
	out := make(map[string]string, len(members))
	for name, raw := range members {
		var s string
		// Unmarshal takes null as "leave s alone": only a JSON string is one.
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		out[name] = s
	}
	if countMembers(body) != len(members) {
		return nil, false // a member given twice, which Unmarshal lets the last win
	}
	return out, true
}

// countMembers counts the top-level members of a JSON object, or -1.
func countMembers(body []byte) int {
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil {
		return -1
	}
	n := 0
	for dec.More() {
		var value json.RawMessage
		if _, err := dec.Token(); err != nil { // the member's name
			return -1
		}
		if err := dec.Decode(&value); err != nil {
			return -1
		}
		n++
	}
	return n
}
