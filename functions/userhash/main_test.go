// The test harness for the built command: TestMain builds the real binary
// once, and start runs it as a user would, with only the environment it is
// given, and reads its JSON log.

package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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

// Server is a running local server.
type Server struct {
	URL  string // the API's endpoint, http://127.0.0.1:PORT/v1/intercom/user-hash
	Base string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
	log  *syncBuffer
}

// Log returns everything the server has logged so far.
func (s *Server) Log() string { return s.log.String() }

// LogLines returns the server's log lines decoded as JSON objects.
func (s *Server) LogLines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.Log()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// DemoEnv is the environment `make run` uses.
func DemoEnv() map[string]string {
	return map[string]string{
		"AUTH_MODE":      "password",
		"IOS_SECRET":     "demo-ios-secret",
		"ANDROID_SECRET": "demo-android-secret",
		"WEB_SECRET":     "demo-web-secret",
		"USERS_FILE":     filepath.Join(repoRoot, "demo", "users.json"),
	}
}

// start runs the binary with env (and nothing else of the test's
// environment but PATH and HOME) on a free loopback port, and waits until
// it serves. It is stopped when the test ends.
func start(t testing.TB, env map[string]string) *Server {
	t.Helper()
	s, err := tryStart(t, env)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tryStart is start for tests that expect the start to fail: it returns
// the error and what the binary printed.
func tryStart(t testing.TB, env map[string]string) (*Server, error) {
	t.Helper()
	testenv.NotShort(t, "runs the built userhash binary")
	cmd := exec.Command(binary)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "LISTEN_ADDR=127.0.0.1:0"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	s := &Server{cmd: cmd, log: &syncBuffer{}}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
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
	case u := <-ready:
		s.URL = u
		s.Base = strings.TrimSuffix(u, "/v1/intercom/user-hash")
		return s, nil
	case <-exited:
		_ = cmd.Wait()
		return nil, fmt.Errorf("server exited before serving: %s", strings.TrimSpace(s.Log()))
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("server did not start within 30s: %s", s.Log())
	}
}

// Post sends a JSON body to the API and returns the status, headers and
// body.
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
	return do(t, req)
}

func do(t testing.TB, req *http.Request) (int, http.Header, []byte) {
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
