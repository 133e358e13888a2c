// The local server end to end, as `make run` starts it and the README's
// curl command calls it.

package main_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

type success struct {
	Platform string `json:"platform"`
	UserID   string `json:"user_id"`
	Email    string `json:"email"`
	UserHash string `json:"user_hash"`
	UserJWT  string `json:"user_jwt"`
	Expires  string `json:"user_jwt_expires_at"`
}

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

func independentHash(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

var lowerHex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// TestDemoReadmeCurl is the README's curl command against `make run`'s
// configuration: the hash must be what an independent HMAC gives.
func TestDemoReadmeCurl(t *testing.T) {
	s := start(t, DemoEnv())
	status, hdr, body := s.Post(t, `{"username": "alice@example.com", "password": "demo-password", "platform": "iPhone"}`)
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", status, body)
	}
	if got := hdr.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	var got success
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if !lowerHex64.MatchString(got.UserHash) {
		t.Errorf("user_hash = %q, want 64 lowercase hex", got.UserHash)
	}
	if want := independentHash("demo-ios-secret", "u-alice-1001"); got.UserHash != want {
		t.Errorf("user_hash = %s, want HMAC-SHA256(demo-ios-secret, u-alice-1001) = %s", got.UserHash, want)
	}
	if got.Platform != "ios" || got.UserID != "u-alice-1001" || got.Email != "alice@example.com" || got.UserJWT == "" {
		t.Errorf("body = %+v, want ios, u-alice-1001, alice@example.com and a JWT", got)
	}
	if !strings.Contains(s.Log(), "DEMO MODE") {
		t.Error("the log does not say the demo secrets are demo values")
	}
}

// TestDemoSignInFailuresLookAlike checks that a wrong password and an
// unknown user get byte-identical bodies; only the X-Request-Id header,
// which every answer has, differs.
func TestDemoSignInFailuresLookAlike(t *testing.T) {
	s := start(t, DemoEnv())
	_, h1, wrong := s.Post(t, `{"username": "alice@example.com", "password": "nope", "platform": "ios"}`)
	_, h2, unknown := s.Post(t, `{"username": "mallory@example.com", "password": "nope", "platform": "ios"}`)
	if string(wrong) != string(unknown) {
		t.Errorf("wrong password body %s\nunknown user body   %s\nwant byte-identical", wrong, unknown)
	}
	if id1, id2 := h1.Get("X-Request-Id"), h2.Get("X-Request-Id"); id1 == "" || id1 == id2 {
		t.Errorf("X-Request-Id = %q and %q, want one per request", id1, id2)
	}
	var p problem
	if err := json.Unmarshal(wrong, &p); err != nil || p.Code != "unauthenticated" || p.Status != 401 {
		t.Errorf("body = %s, want 401 unauthenticated", wrong)
	}
}

// TestStartRefusesBadConfig checks that a bad configuration stops the start
// with one line naming the variable.
func TestStartRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		variable string
	}{
		{name: "malformed duration", env: map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x", "SECRET_CACHE_TTL": "5 minutes"}, variable: "SECRET_CACHE_TTL"},
		{name: "unknown mode", env: map[string]string{"AUTH_MODE": "oauth", "IOS_SECRET": "x"}, variable: "AUTH_MODE"},
		{name: "literal and ID for one platform", env: map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x", "IOS_SECRET_ID": "y"}, variable: "IOS_SECRET"},
		{name: "no secret at all", env: map[string]string{"AUTH_MODE": "password"}, variable: "SECRET_ID"},
		{name: "jwt mode without issuer", env: map[string]string{"IOS_SECRET": "x"}, variable: "JWT_ISSUER"},
		{name: "literal secret inside Lambda", env: map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9", "IOS_SECRET": "x"}, variable: "IOS_SECRET_ID"},
		{name: "password mode in Lambda without Cognito", env: map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9", "AUTH_MODE": "password", "IOS_SECRET_ID": "ios"}, variable: "COGNITO_CLIENT_ID"},
		// Nothing stands in front of the local server to add the edge's header.
		{name: "edge origin secret on the local server", env: map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x", "EDGE_ORIGIN_SECRET_ID": "edge/origin"}, variable: "EDGE_ORIGIN_SECRET_ID"},
		{name: "missing users file", env: map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x", "USERS_FILE": "/nonexistent/users.json"}, variable: "USERS_FILE"},
		// The demo users' passwords are public: never beside a real secret.
		{name: "demo users with a real secret", env: map[string]string{"AUTH_MODE": "password", "IOS_SECRET_ID": "prod/intercom-ios", "AWS_REGION": "us-east-1"}, variable: "USERS_FILE"},
		{name: "demo users with one real secret among demo ones", env: map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x", "WEB_SECRET_ID": "prod/intercom-web", "AWS_REGION": "us-east-1"}, variable: "USERS_FILE"},
		// A cheaper hash answers faster and so tells which users exist.
		{name: "users file with mixed bcrypt costs", env: map[string]string{"AUTH_MODE": "password", "IOS_SECRET": "x", "USERS_FILE": mixedCostUsersFile(t)}, variable: "USERS_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tryStart(t, tt.env)
			if err == nil {
				t.Fatal("server started, want a refusal")
			}
			msg := strings.TrimPrefix(err.Error(), "server exited before serving: ")
			if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, tt.variable) {
				t.Errorf("start error = %q, want one line naming %s", msg, tt.variable)
			}
			if strings.Contains(msg, "x\"") || strings.Contains(msg, "=x") {
				t.Errorf("start error %q echoes a secret value", msg)
			}
		})
	}
}

// mixedCostUsersFile writes a users file whose two users' hashes have
// bcrypt costs 4 and 5, and returns its path.
func mixedCostUsersFile(t *testing.T) string {
	t.Helper()
	var users []map[string]string
	for i, cost := range []int{4, 5} {
		h, err := bcrypt.GenerateFromPassword([]byte("pw"), cost)
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, map[string]string{"username": fmt.Sprintf("user-%d", i), "password_bcrypt": string(h), "user_id": fmt.Sprintf("u-%d", i)})
	}
	b, err := json.Marshal(users)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
