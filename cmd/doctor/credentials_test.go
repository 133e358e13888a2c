// Credentials off the command line (issue #21): a hash, JWT or token from
// standard input or the environment instead of a flag that the shell
// history and the process list keep, and credentials never sent in clear
// text over http:// except to this machine.

package main

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestHashAndJWTOffTheCommandLine(t *testing.T) {
	hash := hmacHex(iosSecret, "u-123")
	tok := hs256(t, iosSecret, jwt.MapClaims{"user_id": "u-123", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()})
	with := func(kv ...string) map[string]string {
		env := literalEnv()
		for i := 0; i+1 < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	tests := []struct {
		name  string
		env   map[string]string
		stdin string
		args  []string
	}{
		{"hash on standard input", literalEnv(), hash + "\n", []string{"-platform", "ios", "-user-id", "u-123", "-hash-stdin"}},
		{"hash in DOCTOR_HASH", with("DOCTOR_HASH", hash), "", []string{"-platform", "ios", "-user-id", "u-123"}},
		{"JWT on standard input", literalEnv(), tok + "\r\n", []string{"-platform", "ios", "-jwt-stdin"}},
		{"JWT in DOCTOR_JWT", with("DOCTOR_JWT", tok), "", []string{"-platform", "ios"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runDoctor(t, tt.env, tt.stdin, append(tt.args, "-json")...)
			if code != exitOK {
				t.Fatalf("exit status = %d, want 0\n%s%s", code, out, stderr)
			}
			if r := decodeReport(t, out); r.Cause == nil || *r.Cause != "match" {
				t.Errorf("cause = %v, want match\n%s", r.Cause, out)
			}
			assertClean(t, out+stderr, hash, tok, iosSecret)
		})
	}

	// A variable left exported from another run does not make this one a
	// usage error: it counts only where its flag would make sense.
	env := with("DOCTOR_HASH", hash, "DOCTOR_JWT", tok, "DOCTOR_TOKEN", "t0k3n")
	if code, out, stderr := runDoctor(t, env, ""); code != exitOK {
		t.Errorf("secrets only, with DOCTOR_* set: exit status %d\n%s%s", code, out, stderr)
	}
}

func TestTokenFromTheEnvironmentReachesTheAPI(t *testing.T) {
	api := &fakeAPI{}
	srv := httptest.NewServer(api) // http://127.0.0.1:port: loopback
	defer srv.Close()
	code, out, _ := runDoctor(t, map[string]string{"IOS_SECRET": iosSecret, "DOCTOR_TOKEN": "b3ar3r-t0k3n"}, "", "-url", srv.URL)
	if code != exitOK {
		t.Fatalf("exit status = %d\n%s", code, out)
	}
	if len(api.requests) == 0 || api.requests[0].auth != "Bearer b3ar3r-t0k3n" {
		t.Errorf("requests %v, want the token of DOCTOR_TOKEN as the bearer", api.requests)
	}
	assertClean(t, out, "b3ar3r-t0k3n")
}

func TestCredentialsNeverInClearTextButToLoopback(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://abc.execute-api.eu-west-1.amazonaws.com/v1/intercom/user-hash", true},
		{"http://127.0.0.1:3000/v1/intercom/user-hash", true},
		{"http://127.8.9.10:3000/v1/intercom/user-hash", true},
		{"http://localhost:3000/v1/intercom/user-hash", true},
		{"http://[::1]:3000/v1/intercom/user-hash", true},
		{"http://abc.execute-api.eu-west-1.amazonaws.com/v1/intercom/user-hash", false},
		{"http://192.168.1.20:3000/v1/intercom/user-hash", false},
		{"http://localhost.example.com/v1/intercom/user-hash", false},
		{"http://127.0.0.1.nip.io/v1/intercom/user-hash", false},
		{"ftp://localhost/v1", false},
	}
	for _, tt := range tests {
		if err := safeForCredentials(tt.url); (err == nil) != tt.ok {
			t.Errorf("safeForCredentials(%s) = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
	for _, args := range [][]string{
		{"-url", "http://api.example.com/v1/intercom/user-hash", "-token", "t0k3n"},
		{"-url", "http://api.example.com/v1/intercom/user-hash", "-username", "bob", "-password-stdin"},
	} {
		code, out, stderr := runDoctor(t, literalEnv(), "pw\n", args...)
		if code != exitUsage || !strings.Contains(stderr, "-url") || !strings.Contains(stderr, "https://") {
			t.Errorf("%v: exit status %d, stderr %q; want a usage error about -url and https://\n%s", args, code, stderr, out)
		}
	}
}

func TestOneValueOnStandardInput(t *testing.T) {
	hash := hmacHex(iosSecret, "u-123")
	for _, args := range [][]string{
		{"-platform", "ios", "-user-id", "u-123", "-hash-stdin", "-jwt-stdin"},
		{"-platform", "ios", "-user-id", "u-123", "-hash-stdin", "-url", "https://x.example", "-token-stdin"},
		{"-platform", "ios", "-user-id", "u-123", "-hash", hash, "-hash-stdin"},
	} {
		code, _, stderr := runDoctor(t, literalEnv(), hash+"\n", args...)
		if code != exitUsage || !strings.Contains(stderr, "-hash") {
			t.Errorf("%v: exit status %d, stderr %q; want a usage error naming -hash", args, code, stderr)
		}
		assertClean(t, stderr, hash)
	}
	code, _, stderr := runDoctor(t, literalEnv(), "", "-h")
	for _, w := range []string{"-hash-stdin", "-jwt-stdin", "-token-stdin", "DOCTOR_HASH", "DOCTOR_JWT", "DOCTOR_TOKEN", "http://"} {
		if code != exitOK || !strings.Contains(stderr, w) {
			t.Errorf("the usage does not mention %s", w)
		}
	}
}
