// The test harness for the built command: TestMain builds the real binary
// once, and start runs it as a user would, with only the environment it is
// given, and reads its JSON log.

package main_test

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/intercom-identity/userhash/internal/localapi"
	"github.com/intercom-identity/userhash/internal/testenv"
)

// binary is the path of the command built by TestMain.
var binary string

// repoRoot is the repository's top folder, where the demo users file is.
var repoRoot string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// Every test here runs the built binary; -short skips them all
		// (tryStart says so) rather than spend a race build on nothing.
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "userhash-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "userhash")
	build := exec.Command("go", "build", "-race", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build userhash:", err)
		os.Exit(1)
	}
	wd, _ := os.Getwd()
	repoRoot = filepath.Join(wd, "..", "..")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Server is a running local server; see internal/localapi.
type Server = localapi.Server

// DemoEnv is the environment `make run` uses.
func DemoEnv() map[string]string { return localapi.DemoEnv() }

// start runs the race-built binary with env (and nothing else of the
// test's environment but PATH and HOME) on a free loopback port, and waits
// until it serves. It is stopped when the test ends.
func start(t testing.TB, env map[string]string) *Server {
	t.Helper()
	testenv.NotShort(t, "runs the built userhash binary")
	return localapi.Start(t, binary, env)
}

// tryStart is start for tests that expect the start to fail: it returns
// the error and what the binary printed.
func tryStart(t testing.TB, env map[string]string) (*Server, error) {
	t.Helper()
	testenv.NotShort(t, "runs the built userhash binary")
	return localapi.TryStart(t, binary, env)
}

func do(t testing.TB, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	return localapi.Do(t, req)
}
