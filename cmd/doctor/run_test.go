// The command as a whole, run in process with literal secrets (no AWS, no
// tools): exit statuses, usage errors, the JSON shape scripts rely on, and
// output that never holds a secret, password, token or whole hash.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// literalEnv is a configuration with a literal secret per platform.
func literalEnv() map[string]string {
	return map[string]string{"IOS_SECRET": iosSecret, "ANDROID_SECRET": androidSecret, "WEB_SECRET": webSecret}
}

// runDoctor runs the command in process and returns its exit status,
// standard output and standard error.
func runDoctor(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr, lookup)
	return code, stdout.String(), stderr.String()
}

// jsonReport is the -json shape, decoded strictly: a renamed or added
// top-level field fails the test, so scripts can rely on it.
type jsonReport struct {
	OK     *bool `json:"ok"`
	Checks []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
		Fix    string `json:"fix"`
	} `json:"checks"`
	Cause *string `json:"cause"`
}

func decodeReport(t *testing.T, out string) jsonReport {
	t.Helper()
	if strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("-json printed more than one line:\n%s", out)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	var r jsonReport
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("-json output %q: %v", out, err)
	}
	if r.OK == nil || r.Checks == nil {
		t.Fatalf("-json output %q lacks ok or checks", out)
	}
	return r
}

// assertClean fails when out holds any of the sensitive values.
func assertClean(t *testing.T, out string, sensitive ...string) {
	t.Helper()
	for _, s := range sensitive {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("the output holds a sensitive value (%d characters starting %.3q):\n%s", len(s), s, out)
		}
	}
}

func TestRunExitStatus(t *testing.T) {
	match := hmacHex(iosSecret, "u-123")
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		wantCode  int
		wantCause string
		wantFail  []string
	}{
		{name: "secrets only", env: literalEnv(), wantCode: exitOK},
		{name: "a matching hash", env: literalEnv(), args: []string{"-platform", "iPhone", "-user-id", "u-123", "-hash", match}, wantCode: exitOK, wantCause: "match"},
		{name: "a wrong hash", env: literalEnv(), args: []string{"-platform", "android", "-user-id", "u-123", "-hash", match}, wantCode: exitFailed, wantCause: "wrong_platform_secret", wantFail: []string{"hash"}},
		{name: "no configuration", env: map[string]string{}, wantCode: exitFailed, wantFail: []string{"config"}},
		{name: "a bad configuration", env: map[string]string{"IOS_SECRET": "x", "SECRET_CACHE_TTL": "soon"}, wantCode: exitFailed, wantFail: []string{"config"}},
		{name: "a signed attribute the function refuses at start", env: map[string]string{"IOS_SECRET": "x", "USER_JWT_ATTRIBUTES": "user_id=sub"}, wantCode: exitFailed, wantFail: []string{"config"}},
		{name: "a hash without configuration", env: map[string]string{}, args: []string{"-platform", "ios", "-user-id", "u-123", "-hash", match}, wantCode: exitFailed, wantCause: "undetermined", wantFail: []string{"config", "hash"}},
		{name: "the local server's jwt-mode settings are not needed", env: map[string]string{"AUTH_MODE": "jwt", "IOS_SECRET": iosSecret}, wantCode: exitOK},
		{name: "a secret with a newline", env: map[string]string{"IOS_SECRET": iosSecret + "\n"}, wantCode: exitFailed, wantFail: []string{"secret.ios"}},
		{name: "a quoted secret", env: map[string]string{"IOS_SECRET": `"` + iosSecret + `"`}, wantCode: exitFailed, wantFail: []string{"secret.ios"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runDoctor(t, tt.env, "", append(tt.args, "-json")...)
			if code != tt.wantCode {
				t.Errorf("exit status = %d, want %d\n%s%s", code, tt.wantCode, out, stderr)
			}
			if stderr != "" {
				t.Errorf("stderr = %q, want nothing: the report is the output", stderr)
			}
			r := decodeReport(t, out)
			if *r.OK != (tt.wantCode == exitOK) {
				t.Errorf("ok = %v with exit status %d", *r.OK, code)
			}
			gotCause := ""
			if r.Cause != nil {
				gotCause = *r.Cause
			}
			if gotCause != tt.wantCause {
				t.Errorf("cause = %q, want %q", gotCause, tt.wantCause)
			}
			var failed []string
			for _, c := range r.Checks {
				if !c.OK {
					failed = append(failed, c.Name)
					if c.Fix == "" && c.Name != "secret.ios" {
						t.Errorf("failed check %s has no fix", c.Name)
					}
				}
			}
			if strings.Join(failed, ",") != strings.Join(tt.wantFail, ",") {
				t.Errorf("failed checks = %v, want %v\n%s", failed, tt.wantFail, out)
			}
			assertClean(t, out, iosSecret, androidSecret, webSecret, match)
		})
	}
}

func TestRunUsageErrors(t *testing.T) {
	hash := hmacHex(iosSecret, "u-123")
	tests := []struct {
		name  string
		args  []string
		stdin string
		flag  string // the flag the message must name
	}{
		{name: "unknown flag", args: []string{"-password", "x"}, flag: "-password"},
		{name: "stray argument", args: []string{"ios"}, flag: `"ios"`},
		{name: "unknown platform", args: []string{"-platform", "windows", "-user-id", "u", "-hash", hash}, flag: "-platform"},
		{name: "hash without platform", args: []string{"-user-id", "u", "-hash", hash}, flag: "-platform"},
		{name: "jwt without platform", args: []string{"-jwt", "a.b.c"}, flag: "-platform"},
		{name: "hash without identifier", args: []string{"-platform", "ios", "-hash", hash}, flag: "-hash"},
		{name: "hash not hex", args: []string{"-platform", "ios", "-user-id", "u", "-hash", strings.Repeat("z", 64)}, flag: "-hash"},
		{name: "hash cut short", args: []string{"-platform", "ios", "-user-id", "u", "-hash", hash[:40]}, flag: "-hash"},
		{name: "a JWT given as the hash", args: []string{"-platform", "ios", "-user-id", "u", "-hash", "eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoidSJ9.c2ln"}, flag: "-jwt"},
		{name: "sent names a missing identifier", args: []string{"-platform", "ios", "-email", "a@b", "-sent", "user_id", "-hash", hash}, flag: "-sent"},
		{name: "sent is not a choice", args: []string{"-platform", "ios", "-email", "a@b", "-sent", "all", "-hash", hash}, flag: "-sent"},
		{name: "identifier without hash or jwt", args: []string{"-user-id", "u"}, flag: "-user-id"},
		{name: "url and stack", args: []string{"-url", "https://x.example/v1", "-stack", "s", "-token", "t"}, flag: "-stack"},
		{name: "url without credentials", args: []string{"-url", "https://x.example/v1"}, flag: "-url"},
		{name: "url not http", args: []string{"-url", "ftp://x.example/v1", "-token", "t"}, flag: "-url"},
		{name: "token without url", args: []string{"-token", "t"}, flag: "-token"},
		{name: "token and username", args: []string{"-url", "https://x.example", "-token", "t", "-username", "u", "-password-stdin"}, stdin: "pw\n", flag: "-username"},
		{name: "username without password-stdin", args: []string{"-url", "https://x.example", "-username", "u"}, flag: "-password-stdin"},
		{name: "password-stdin without username", args: []string{"-url", "https://x.example", "-password-stdin"}, stdin: "pw\n", flag: "-username"},
		{name: "no password on stdin", args: []string{"-url", "https://x.example", "-username", "u", "-password-stdin"}, stdin: "", flag: "-password-stdin"},
		{name: "no token on stdin", args: []string{"-url", "https://x.example", "-token-stdin"}, stdin: "\n", flag: "-token-stdin"},
		{name: "origin without a call", args: []string{"-origin", "capacitor://localhost"}, flag: "-origin"},
		{name: "origin not an origin", args: []string{"-url", "https://x.example", "-token", "t", "-origin", "localhost"}, flag: "-origin"},
		{name: "timeout zero", args: []string{"-timeout", "0s"}, flag: "-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runDoctor(t, literalEnv(), tt.stdin, tt.args...)
			if code != exitUsage {
				t.Errorf("exit status = %d, want %d (usage)\n%s", code, exitUsage, out)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing on a usage error", out)
			}
			if !strings.Contains(stderr, tt.flag) {
				t.Errorf("stderr = %q, want it to name %s", stderr, tt.flag)
			}
			assertClean(t, stderr, hash, "pw")
		})
	}
}

func TestRunHelp(t *testing.T) {
	code, out, stderr := runDoctor(t, literalEnv(), "", "-h")
	if code != exitOK || out != "" {
		t.Errorf("-h: exit status %d, stdout %q; want 0 and the usage on stderr", code, out)
	}
	for _, w := range []string{"-password-stdin", "-stack", "Exit status: 0"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("the usage does not mention %q", w)
		}
	}
	if strings.Contains(stderr, "-password ") {
		t.Error("the usage lists a password flag; the password comes only from standard input")
	}
}

func TestRunTextReport(t *testing.T) {
	hash := hmacHex(androidSecret, "u-123")
	code, out, _ := runDoctor(t, literalEnv(), "", "-platform", "ios", "-user-id", "u-123", "-hash", hash)
	if code != exitFailed {
		t.Fatalf("exit status = %d, want 1", code)
	}
	lines := strings.Split(out, "\n")
	for _, want := range []string{"ok    config", "ok    secret.ios", "FAIL  hash", "fix: Sign with the secret of the platform", "cause: wrong_platform_secret", "1 of 5 checks failed"} {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), strings.TrimSpace(want)) || strings.HasPrefix(l, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no line starting %q in:\n%s", want, out)
		}
	}
	if !strings.Contains(out, hash[:8]+"…") {
		t.Errorf("the hash is not identified by its prefix %s… in:\n%s", hash[:8], out)
	}
	assertClean(t, out, hash, iosSecret, androidSecret, webSecret)
}

func TestReportMasksSensitiveValues(t *testing.T) {
	r := Report{Checks: []Check{{Name: "api.ios", Detail: "the server said: wrong password hunter2-pw for token eyJtoken", Fix: "hunter2-pw"}}}
	var b bytes.Buffer
	if err := r.writeText(&b, []string{"hunter2-pw", "eyJtoken", "short"}); err != nil {
		t.Fatal(err)
	}
	assertClean(t, b.String(), "hunter2-pw", "eyJtoken")
	if !strings.Contains(b.String(), "[redacted]") {
		t.Errorf("masked output %q does not say what was masked", b.String())
	}
	b.Reset()
	if err := r.writeJSON(&b, []string{"hunter2-pw", "eyJtoken"}); err != nil {
		t.Fatal(err)
	}
	assertClean(t, b.String(), "hunter2-pw", "eyJtoken")
}
