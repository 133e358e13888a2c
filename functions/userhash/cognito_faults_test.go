// Password mode in AWS when Cognito misbehaves: the built command against
// the Cognito wire-protocol fake, told to lock the account out, fail, drop
// the connection or hang. Each gets its problem code and Retry-After, and
// the hung one an answer within the sign-in's bound.

package main_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/intercom-identity/userhash/internal/awsfake"
)

func TestCognitoFaults(t *testing.T) {
	const (
		clientID = "faults-app-client"
		user     = "faults.user@example.com"
		pw       = "Faults-Password-9"
	)
	pool := awsfake.NewCognito(clientID, "")
	pool.AddUser(user, awsfake.CognitoUser{Password: pw, Claims: map[string]any{"sub": "u-faults-42", "email": user, "email_verified": true}})
	poolURL := pool.Start(t)
	sm := awsfake.NewSecretsManager()
	sm.Put("intercom/ios", iosSecret)
	s := start(t, map[string]string{
		"AUTH_MODE":                                  "password",
		"COGNITO_CLIENT_ID":                          clientID,
		"IOS_SECRET_ID":                              "intercom/ios",
		"USER_JWT_TTL":                               "0",
		"AWS_REGION":                                 "us-east-1",
		"AWS_ACCESS_KEY_ID":                          "testing",
		"AWS_SECRET_ACCESS_KEY":                      "testing",
		"AWS_EC2_METADATA_DISABLED":                  "true",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER":           sm.Start(t),
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": poolURL,
	})
	body := `{"username":"` + user + `","password":"` + pw + `","platform":"ios"}`

	tests := []struct {
		name   string
		fault  func()
		status int
		code   string
		retry  string
	}{
		{name: "signed in", fault: func() {}, status: 200},
		{name: "locked out after too many wrong passwords", fault: func() { pool.Fail(awsfake.CognitoPasswordAttemptsExceeded) }, status: 429, code: "too_many_requests", retry: "60"},
		{name: "throttled", fault: func() { pool.Fail(awsfake.CognitoTooManyRequests) }, status: 429, code: "too_many_requests", retry: "1"},
		{name: "5xx", fault: func() { pool.Fail(awsfake.CognitoInternalError) }, status: 503, code: "identity_unavailable", retry: "5"},
		{name: "connection dropped", fault: func() { pool.Drop(true) }, status: 503, code: "identity_unavailable", retry: "5"},
		// The local server's requests have no deadline of their own, so
		// this is the sign-in's own bound: two attempts, 5 s at most. The
		// client's generous timeout (http.DefaultClient has none) is not
		// what ends it: the answer comes.
		{name: "hung", fault: func() { pool.Hang(-1) }, status: 503, code: "identity_unavailable", retry: "5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool.Fail(nil)
			pool.Drop(false)
			pool.Hang(0)
			tt.fault()
			status, header, got := s.Post(t, body)
			if status != tt.status {
				t.Fatalf("status %d, want %d; body %s", status, tt.status, got)
			}
			if h := header.Get("Retry-After"); h != tt.retry {
				t.Errorf("Retry-After = %q, want %q", h, tt.retry)
			}
			if tt.status == http.StatusOK {
				var ok success
				if err := json.Unmarshal(got, &ok); err != nil || ok.UserHash != independentHash(iosSecret, "u-faults-42") {
					t.Errorf("body %s, want the hash of u-faults-42", got)
				}
				return
			}
			var p problem
			if err := json.Unmarshal(got, &p); err != nil || p.Code != tt.code {
				t.Errorf("body %s, want code %s", got, tt.code)
			}
		})
	}
	pool.Hang(0)

	// The log is read from the server's stderr as it comes; the last line
	// may still be on its way.
	log := s.Log()
	for wait := time.Now().Add(30 * time.Second); strings.Count(log, `"msg":"request"`) < len(tests) && time.Now().Before(wait); log = s.Log() {
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(log, `"msg":"request"`); n < len(tests) {
		t.Fatalf("the log has %d request lines, want at least %d: the check below would prove nothing", n, len(tests))
	}
	for _, leak := range []string{user, pw, "u-faults-42", iosSecret, independentHash(iosSecret, "u-faults-42")} {
		if strings.Contains(log, leak) {
			t.Errorf("the log contains %q", leak)
		}
	}
}
