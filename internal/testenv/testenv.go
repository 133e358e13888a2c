// Package testenv says which tests may run on this machine. `go test -short`
// is the quick inner loop: it runs every unit test and skips the tests that
// need an external tool (moto_server, cfn-lint, make, the Lambda emulator) or
// a full build. Without -short those tests fail, never skip, when a tool is
// missing, so that CI cannot pass by leaving them out.
//
//	func TestAgainstMoto(t *testing.T) {
//		testenv.NeedsTool(t, "moto_server")
//		...
//	}
package testenv

import (
	"os/exec"
	"testing"
)

// NeedsTool returns the path of the named executable. Under -short the
// test is skipped; otherwise a missing tool fails it.
func NeedsTool(t testing.TB, name string) string {
	t.Helper()
	NotShort(t, "needs "+name)
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed, and this test needs it (run `go test -short` to leave such tests out): %v", name, err)
	}
	return path
}

// NotShort skips the test under -short, saying why: it needs a tool, a
// build or seconds of wall time that the inner loop does without.
func NotShort(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipped under -short: " + why)
	}
}
