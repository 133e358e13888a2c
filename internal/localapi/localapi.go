// Package localapi runs the userhash command's local server for tests: the
// real binary, built from this module, started with only the environment
// it is given, on a free loopback port. functions/userhash's own tests and
// those of commands that call the API (cmd/doctor) start it this way. It is
// imported by tests only.
//
//	bin := localapi.Build(t, dir) // once per test binary; dir outlives the test
//	s := localapi.Start(t, bin, localapi.DemoEnv())
//	status, header, body := s.Post(t, `{"username": "bob", "password": "demo-password", "platform": "ios"}`)
//	lines := s.LogLines(t) // what it logged, as JSON objects
package localapi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/intercom-identity/userhash/internal/logtest"
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
	URL  string    // the endpoint, http://127.0.0.1:PORT/v1/intercom/user-hash
	Base string    // http://127.0.0.1:PORT
	Cmd  *exec.Cmd // the running process
	log  *logtest.Buffer
}

// Log returns everything the server has logged so far.
func (s *Server) Log() string { return s.log.String() }

// LogLines returns the server's log lines decoded as JSON objects.
func (s *Server) LogLines(t testing.TB) []map[string]any {
	t.Helper()
	return s.log.Lines(t)
}

// Post sends body to the API as JSON, with the headers given as name,
// value pairs, and returns the status, headers and body of the answer.
func (s *Server) Post(t testing.TB, body string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return Do(t, req)
}

// Do sends req and returns the status, headers and body of the answer.
func Do(t testing.TB, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// Start runs bin with env (and of the test's own environment only PATH and
// HOME) on a free loopback port, and returns once it serves. It is stopped
// when the test ends. A server that exits or does not serve within 30s
// fails the test with its log.
func Start(t testing.TB, bin string, env map[string]string) *Server {
	t.Helper()
	s, err := TryStart(t, bin, env)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TryStart is Start for tests that expect the start to fail: the error
// carries what the server printed before it exited.
func TryStart(t testing.TB, bin string, env map[string]string) (*Server, error) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "LISTEN_ADDR=127.0.0.1:0"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{Cmd: cmd, log: &logtest.Buffer{}}
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
		s.Base = strings.TrimSuffix(s.URL, "/v1/intercom/user-hash")
		return s, nil
	case <-exited:
		return nil, fmt.Errorf("the server exited before serving: %s", strings.TrimSpace(s.Log()))
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("the server did not serve within 30s: %s", s.Log())
	}
}
