// `make invoke-rie` as a user runs it: exit 0 when the function answers,
// whatever the answer's HTTP status, and non-zero when the invocation
// fails, so that a script or CI step that runs it notices.

package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/intercom-identity/userhash/internal/envvars"
	"github.com/intercom-identity/userhash/internal/testenv"
)

func TestMakeInvokeRIE(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("the Lambda Runtime Interface Emulator runs on Linux only, not %s", runtime.GOOS)
	}
	makeBin := testenv.NeedsTool(t, "make")
	task := t.TempDir() // not .tools/rie-task, which a user's own run may be using
	// A configuration the function starts with; its secret is never
	// reached by these events (Secrets Manager is a closed port).
	fine := []string{
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:1",
		"IOS_SECRET_ID=arn:aws:secretsmanager:us-east-1:111122223333:secret:intercom-ios-AbC123",
	}
	tests := []struct {
		name       string
		event      string
		env        []string
		wantOK     bool
		wantStatus int    // the answer's statusCode, when wantOK
		wantStderr string // when !wantOK
	}{
		{"a 4xx answer is an answer", "events/get-method.json", fine, true, 405, ""},
		{"an event the runtime cannot decode", "scripts/invoke-rie/testdata/not-an-api-event.json", fine, false, 0, "the function failed: UnmarshalTypeError"},
		{"no such event file", "events/no-such-event.json", fine, false, 0, "read the event"},
		{"a function that fails its init", "events/ios.json", []string{"IOS_SECRET=literal-secrets-are-refused-in-lambda"}, false, 0, "the function did not start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(makeBin, "-C", "../..", "--no-print-directory", "-s", "invoke-rie", "EVENT="+tt.event, "RIE_TASK="+task)
			cmd.Env = append(buildEnv(), tt.env...)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if ok := err == nil; ok != tt.wantOK {
				t.Fatalf("make invoke-rie EVENT=%s: error %v, want success %v\nstdout: %s\nstderr: %s", tt.event, err, tt.wantOK, stdout.String(), stderr.String())
			}
			if !tt.wantOK {
				if !strings.Contains(stderr.String(), tt.wantStderr) {
					t.Errorf("stderr does not say %q:\n%s", tt.wantStderr, stderr.String())
				}
				return
			}
			var answer struct{ StatusCode int }
			if err := json.Unmarshal([]byte(stdout.String()), &answer); err != nil || answer.StatusCode != tt.wantStatus {
				t.Errorf("stdout = %s (%v), want the API Gateway response with statusCode %d", stdout.String(), err, tt.wantStatus)
			}
		})
	}
}

// buildEnv is this process's environment, which make and go need, without
// anything that would configure the function or AWS: each case sets its own.
func buildEnv() []string {
	configured := envvars.UserHash() // probes config.Load: once, not per variable
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return strings.HasPrefix(name, "AWS_") || slices.Contains(configured, name) || name == "EVENT" || name == "RIE_TASK"
	})
}
