// Package localapi runs the userhash command's local server for the tests
// of other commands that call the API (cmd/doctor): the real binary, built
// from this module, started with only the environment it is given, on a
// free loopback port. It is imported by tests only.
//
//	bin := localapi.Build(t, dir) // once per test binary; dir outlives the test
//	s := localapi.Start(t, bin, localapi.DemoEnv())
//	http.Post(s.URL, "application/json", strings.NewReader(`{"platform":"ios", ...}`))
//
// functions/userhash's own tests start the binary the same way, with more
// helpers for reading its log.
package localapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/intercom-identity/userhash/internal/testenv"
)

// Package is the import path of the command Build builds.
const Package = "github.com/intercom-identity/userhash/functions/userhash"

// Build builds the userhash command into dir and returns its path. It is
// skipped under -short.
func Build(t testing.TB, dir string) string {
	t.Helper()
	testenv.NotShort(t, "builds the userhash command")
	bin := filepath.Join(dir, "userhash")
	cmd := exec.Command("go", "build", "-o", bin, Package)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", Package, err, out)
	}
	return bin
}

// RepoRoot returns the module's top folder, where demo/users.json is.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// DemoEnv is the environment `make run` starts the server with: password
// mode, the demo users and the demo secrets.
func DemoEnv() map[string]string {
	return map[string]string{
		"AUTH_MODE":      "password",
		"IOS_SECRET":     "demo-ios-secret",
		"ANDROID_SECRET": "demo-android-secret",
		"WEB_SECRET":     "demo-web-secret",
		"USERS_FILE":     filepath.Join(RepoRoot(), "demo", "users.json"),
	}
}

// Server is a running local server.
type Server struct {
	URL string // the endpoint, http://127.0.0.1:PORT/v1/intercom/user-hash
	log *syncBuffer
}

// Log returns everything the server has logged so far.
func (s *Server) Log() string { return s.log.String() }

// Start runs bin with env (and of the test's own environment only PATH and
// HOME) on a free loopback port, and returns once it serves. It is stopped
// when the test ends. A server that exits or does not serve within 30s
// fails the test with its log.
func Start(t testing.TB, bin string, env map[string]string) *Server {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "LISTEN_ADDR=127.0.0.1:0"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	s := &Server{log: &syncBuffer{}}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	ready := make(chan string, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.log.WriteString(line + "\n")
			var m struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if json.Unmarshal([]byte(line), &m) == nil && m.Msg == "listening" {
				ready <- m.URL
			}
		}
	}()
	select {
	case s.URL = <-ready:
		return s
	case <-exited:
		t.Fatalf("the server exited before serving: %s", strings.TrimSpace(s.Log()))
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not serve within 30s: %s", s.Log())
	}
	return nil
}

// syncBuffer is a bytes.Buffer safe for one writer and many readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) WriteString(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.WriteString(s)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
