// Package eventstest holds what each file in events/ (the payload-2.0
// events that `sam local invoke -e` takes) must answer, so that the handler
// test and the test under the real Lambda runtime hold the same events to
// the same outcomes. It is imported by tests only.
//
//	for _, name := range eventstest.Names(t) {
//		want := eventstest.Outcomes[name] // fails the test for an event without one
//		ev := eventstest.Load(t, name)
//		...
//	}
package eventstest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// Outcome is what one event must answer.
type Outcome struct {
	Password bool   // the event is for password mode (demo user alice@example.com, password demo-password)
	Status   int    // the HTTP status
	Code     string // the problem code; empty for success
	Platform string // on success: the canonical platform, whose secret signs
	UserID   string // on success: the user_id returned, "" when none
	Email    string // on success: the email returned, "" when none
	HashOver string // on success: the identifier the user hash is over
	// Attributes are, on success, the signed attributes the user_jwt
	// carries beside user_id, email, iat and exp when the function runs
	// with USER_JWT_ATTRIBUTES=JWTAttributes; nil for none. The JWT
	// carries the email exactly when Email is not empty.
	Attributes map[string]string

	// Gateway is what API Gateway answers itself in a deployed stack, before
	// the function runs, to the request the event stands for; nil when the
	// request reaches the function there too. Such an event is what the
	// function answers should one reach it (as on the local server).
	Gateway *GatewayAnswer
}

// GatewayAnswer is one of API Gateway's own answers: an application/json
// body {"message": ...} with no problem code (docs/errors.md).
type GatewayAnswer struct {
	Status int
	Body   string
	Why    string
}

// JWTAttributes is the USER_JWT_ATTRIBUTES that jwt-mode events are run
// with, so that the signed attributes are tested through the events too.
const JWTAttributes = "name=name,plan=custom:plan"

// Outcomes is what each file in events/ answers, keyed by file name.
var Outcomes = map[string]Outcome{
	"ios.json":            {Status: 200, Platform: "ios", UserID: "u-123", Email: "a@example.com", HashOver: "u-123"},
	"iphone-cordova.json": {Status: 200, Platform: "ios", UserID: "u-123", Email: "a@example.com", HashOver: "u-123"},
	"android.json":        {Status: 200, Platform: "android", UserID: "u-123", Email: "a@example.com", HashOver: "u-123"},
	"web.json":            {Status: 200, Platform: "web", UserID: "u-123", Email: "a@example.com", HashOver: "u-123"},
	"email-only.json":     {Status: 200, Platform: "ios", Email: "b@example.com", HashOver: "b@example.com"},
	"no-identity.json":    {Status: 403, Code: "unidentified_user"},
	"no-authorizer.json": {Status: 401, Code: "unauthenticated",
		Gateway: &GatewayAnswer{401, `{"message":"Unauthorized"}`, "jwt mode: the route's JWT authorizer refuses a request without a bearer token"}},
	"unknown-platform.json": {Status: 400, Code: "unsupported_platform"},
	"malformed-body.json":   {Status: 400, Code: "invalid_request"},
	"identity-in-body.json": {Status: 400, Code: "invalid_request"},
	"get-method.json": {Status: 405, Code: "method_not_allowed",
		Gateway: &GatewayAnswer{404, `{"message":"Not Found"}`, "the stack has no route for GET /v1/intercom/user-hash, only for POST"}},
	"password-signin.json": {Password: true, Status: 200, Platform: "android", UserID: "u-alice-1001", Email: "alice@example.com", HashOver: "u-alice-1001"},

	// Only a verified email counts: email_verified "false" or
	// missing makes the email unknown: not returned, not in the JWT, not
	// hashed, so a token without a user_id is then anonymous.
	"email-unverified.json":                  {Status: 200, Platform: "ios", UserID: "u-123", HashOver: "u-123", Attributes: map[string]string{"name": "Alice Example"}},
	"email-unverified-no-user-id.json":       {Status: 403, Code: "unidentified_user"},
	"email-verified-missing.json":            {Status: 200, Platform: "ios", UserID: "u-123", HashOver: "u-123"},
	"email-verified-missing-no-user-id.json": {Status: 403, Code: "unidentified_user"},
	"signed-attributes.json":                 {Status: 200, Platform: "ios", UserID: "u-123", Email: "a@example.com", HashOver: "u-123", Attributes: map[string]string{"name": "Alice Example", "plan": "enterprise"}},

	// The claims of docs/idp.md's providers as the gateway passes them,
	// each recipe on the default claim settings: Firebase's boolean
	// email_verified arrives as "true"; Apple's relay address counts;
	// Supabase has no top-level email_verified, and user_metadata's, which
	// the user writes, never counts.
	"firebase.json": {Status: 200, Platform: "android", UserID: "kXq8Zb3hT2Md9sWc1LpR0uYvE4n2", Email: "alice@example.com", HashOver: "kXq8Zb3hT2Md9sWc1LpR0uYvE4n2", Attributes: map[string]string{"name": "Alice Example"}},
	"apple.json":    {Status: 200, Platform: "ios", UserID: "001234.5e201aec537347aeb79d23cbc345170a.1321", Email: "x7k2abcd@privaterelay.appleid.com", HashOver: "001234.5e201aec537347aeb79d23cbc345170a.1321"},
	"supabase.json": {Status: 200, Platform: "web", UserID: "7c9e6679-7425-40de-944b-e07fc1f90ae7", HashOver: "7c9e6679-7425-40de-944b-e07fc1f90ae7"},
}

// Dir is the events/ folder of the repository.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "events")
}

// Names lists the files in events/ and fails t if one has no Outcome, so
// that a new event cannot go untested.
func Names(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(Dir(), "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events in %s: %v", Dir(), err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = filepath.Base(f)
		if _, ok := Outcomes[names[i]]; !ok {
			t.Errorf("events/%s has no expected outcome in eventstest.Outcomes", names[i])
		}
	}
	return names
}

// Raw returns the file's bytes.
func Raw(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Load decodes the event in the file.
func Load(t testing.TB, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(Raw(t, name), &ev); err != nil {
		t.Fatalf("events/%s: %v", name, err)
	}
	return ev
}
