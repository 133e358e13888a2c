// -status: each answer Intercom gives an identity it does not accept (400,
// 401, 403) explained by its cause, from what the app sent when it is given.

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestRunStatus(t *testing.T) {
	now := time.Now()
	claims := func(userID string, exp time.Time) jwt.MapClaims {
		c := jwt.MapClaims{"email": "alice@example.com", "iat": now.Add(-time.Minute).Unix(), "exp": exp.Unix()}
		if userID != "" {
			c["user_id"] = userID
		}
		return c
	}
	goodJWT := hs256(t, iosSecret, claims("u-123", now.Add(time.Hour)))
	expiredJWT := hs256(t, iosSecret, claims("u-123", now.Add(-time.Minute)))
	noUserID := hs256(t, iosSecret, claims("", now.Add(time.Hour)))
	androidJWT := hs256(t, androidSecret, claims("u-123", now.Add(time.Hour)))
	goodHash := hmacHex(iosSecret, "u-123")
	androidHash := hmacHex(androidSecret, "u-123")

	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		wantCause string
		detail    []string // words the intercom check's detail must hold
		fix       string   // words its fix must hold
	}{
		{name: "400, nothing sent", args: []string{"-status", "400"}, wantCause: "jwt_missing",
			detail: []string{"Messenger Security is enforced", "no JWT"}, fix: "before the login"},
		{name: "400, a right hash where a JWT is required", args: []string{"-status", "400", "-platform", "ios", "-user-id", "u-123", "-hash", goodHash}, wantCause: "hash_where_jwt_required",
			detail: []string{"user_hash", "takes only a JWT"}, fix: "in the user_hash's place"},
		{name: "400, a JWT without user_id", args: []string{"-status", "400", "-platform", "ios", "-jwt", noUserID}, wantCause: "jwt_without_user_id",
			detail: []string{"itself refused"}, fix: "every user needs a user_id"},
		{name: "400, an expired JWT", args: []string{"-status", "400", "-platform", "ios", "-jwt", expiredJWT}, wantCause: "jwt_expired",
			detail: []string{"itself refused"}, fix: "before user_jwt_expires_at"},
		{name: "400, another platform's JWT", args: []string{"-status", "400", "-platform", "ios", "-jwt", androidJWT}, wantCause: "wrong_platform_secret",
			fix: "secret of the platform the app runs on"},
		{name: "400, a right JWT: not set before the login", args: []string{"-status", "400", "-platform", "iPhone", "-user-id", "u-123", "-jwt", goodJWT}, wantCause: "sent_after_login",
			detail: []string{"did not get it with the login"}, fix: "setUserHash/setUserJwt first"},
		{name: "400, the JWT not checked without configuration", env: map[string]string{}, args: []string{"-status", "400", "-platform", "ios", "-jwt", goodJWT}, wantCause: "undetermined",
			detail: []string{"could not check"}},
		{name: "401, a right hash: not set before the login", args: []string{"-status", "401", "-platform", "ios", "-user-id", "u-123", "-hash", goodHash}, wantCause: "sent_after_login",
			detail: []string{"does not verify", "did not get it"}, fix: "fingerprint"},
		{name: "401, another platform's hash", args: []string{"-status", "401", "-platform", "ios", "-user-id", "u-123", "-hash", androidHash}, wantCause: "wrong_platform_secret",
			detail: []string{"itself the mistake"}, fix: "secret of the platform the app runs on"},
		{name: "401, nothing to diagnose", args: []string{"-status", "401"}, wantCause: "",
			detail: []string{"does not verify"}, fix: "-hash"},
		{name: "403 on the web", args: []string{"-status", "403", "-platform", "web"}, wantCause: "update_without_verification",
			detail: []string{"neither user_hash nor intercom_user_jwt"}, fix: "every Intercom('boot') and Intercom('update')"},
		{name: "403 said of an iOS app", args: []string{"-status", "403", "-platform", "ios"}, wantCause: "update_without_verification",
			detail: []string{"the web messenger's", "runs on ios"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := tt.env
			if env == nil {
				env = literalEnv()
			}
			code, out, stderr := runDoctor(t, env, "", append(tt.args, "-json")...)
			if code != exitFailed {
				t.Errorf("exit status = %d, want %d: the app saw an error\n%s%s", code, exitFailed, out, stderr)
			}
			r := decodeReport(t, out)
			gotCause := ""
			if r.Cause != nil {
				gotCause = *r.Cause
			}
			if gotCause != tt.wantCause {
				t.Errorf("cause = %q, want %q\n%s", gotCause, tt.wantCause, out)
			}
			last := r.Checks[len(r.Checks)-1]
			if last.Name != "intercom" || last.OK {
				t.Fatalf("last check = %s (ok %v), want a failed intercom check\n%s", last.Name, last.OK, out)
			}
			for _, w := range tt.detail {
				if !strings.Contains(last.Detail, w) {
					t.Errorf("detail %q does not say %q", last.Detail, w)
				}
			}
			if last.Fix == "" || !strings.Contains(last.Fix, tt.fix) {
				t.Errorf("fix %q does not say %q", last.Fix, tt.fix)
			}
			assertClean(t, out, iosSecret, androidSecret, webSecret, goodHash, androidHash, goodJWT, noUserID, expiredJWT, androidJWT)
		})
	}
}

func TestRunStatusUsage(t *testing.T) {
	for _, s := range []string{"404", "200", "-1", "teapot"} {
		code, out, stderr := runDoctor(t, literalEnv(), "", "-status", s)
		if code != exitUsage || out != "" || !strings.Contains(stderr, "-status") {
			t.Errorf("-status %s: exit %d, stdout %q, stderr %q; want a usage error naming -status", s, code, out, stderr)
		}
	}
}

// Without -status nothing changes: no intercom check.
func TestRunWithoutStatusHasNoIntercomCheck(t *testing.T) {
	_, out, _ := runDoctor(t, literalEnv(), "", "-platform", "ios", "-user-id", "u-123", "-hash", hmacHex(iosSecret, "u-123"), "-json")
	if strings.Contains(out, `"intercom"`) {
		t.Errorf("an intercom check without -status:\n%s", out)
	}
}
