// The load test: the local server, built as it ships (no race detector),
// with its secrets in the Secrets Manager fake and its bearer tokens from
// a test OIDC issuer, takes 10,000 requests from 50 concurrent clients.
// Every answer must be the right hash, the fake must have been called
// exactly once per secret (the TTL outlasts the test), and the server's
// peak memory must leave a 128 MB function room to spare.

package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/internal/oidctest"
)

const (
	loadRequests = 10000
	loadClients  = 50
	loadUsers    = 20
	// A Lambda function of 128 MB must hold the process with room to
	// spare; the local server carries 50 connections where Lambda has one
	// request at a time, so it is the harder case.
	loadMaxRSS = 64 << 20
)

var loadSecrets = map[string]string{"ios": "load-ios-secret", "android": "load-android-secret", "web": "load-web-secret"}

func TestLoad(t *testing.T) {
	sm := awsfake.NewSecretsManager()
	for p, v := range loadSecrets {
		sm.Put("intercom/"+p, v)
	}
	smURL := sm.Start(t)
	iss := oidctest.New(t)
	const aud = "userhash-load"

	env := map[string]string{
		"AUTH_MODE":                        "jwt",
		"JWT_ISSUER":                       iss.URL,
		"JWT_AUDIENCE":                     aud,
		"IOS_SECRET_ID":                    "intercom/ios",
		"ANDROID_SECRET_ID":                "intercom/android",
		"WEB_SECRET_ID":                    "intercom/web",
		"SECRET_CACHE_TTL":                 "1h",
		"AWS_REGION":                       "us-east-1",
		"AWS_ACCESS_KEY_ID":                "testing",
		"AWS_SECRET_ACCESS_KEY":            "testing",
		"AWS_CONFIG_FILE":                  os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE":      os.DevNull,
		"AWS_EC2_METADATA_DISABLED":        "true",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": smURL,
	}
	s := startBinary(t, plainBinary(t), env)

	type user struct{ sub, token string }
	users := make([]user, loadUsers)
	for i := range users {
		sub := fmt.Sprintf("u-load-%02d", i)
		c := iss.Claims(aud, sub)
		c["exp"] = time.Now().Add(24 * time.Hour).Unix()
		users[i] = user{sub: sub, token: iss.Sign(t, c)}
	}
	platforms := []string{"ios", "android", "web"}

	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: loadClients, MaxConnsPerHost: loadClients},
	}
	type result struct {
		took time.Duration
		err  error
	}
	results := make([]result, loadRequests)
	var wg sync.WaitGroup
	begin := time.Now()
	for c := range loadClients {
		wg.Go(func() {
			for i := c; i < loadRequests; i += loadClients {
				u, p := users[i%loadUsers], platforms[i%len(platforms)]
				start := time.Now()
				err := loadRequest(client, s.URL, u.token, p, independentHash(loadSecrets[p], u.sub))
				results[i] = result{took: time.Since(start), err: err}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(begin)

	failed := 0
	took := make([]time.Duration, 0, loadRequests)
	for i, r := range results {
		if r.err != nil {
			failed++
			if failed <= 5 {
				t.Errorf("request %d: %v", i, r.err)
			}
		}
		took = append(took, r.took)
	}
	if failed > 0 {
		t.Fatalf("%d of %d requests failed", failed, loadRequests)
	}
	for p := range loadSecrets {
		if got := sm.Calls("intercom/" + p); got != 1 {
			t.Errorf("GetSecretValue was called %d times for intercom/%s, want exactly 1 (one per TTL)", got, p)
		}
	}
	if others := sm.OtherCalls(); len(others) != 0 {
		t.Errorf("the function called Secrets Manager operations other than GetSecretValue and BatchGetSecretValue: %v", others)
	}

	rss, err := peakRSS(s.Cmd.Process.Pid)
	if err != nil {
		t.Fatalf("read the server's peak RSS: %v", err)
	}
	slices.Sort(took)
	// One line that `make bench` reads into BENCHMARKS.md.
	t.Logf("LOAD requests=%d clients=%d errors=0 elapsed=%s rps=%.0f p50=%s p99=%s peak_rss_mib=%.1f go=%s/%s",
		loadRequests, loadClients, elapsed.Round(time.Millisecond), float64(loadRequests)/elapsed.Seconds(),
		took[len(took)/2].Round(time.Microsecond), took[len(took)*99/100].Round(time.Microsecond),
		float64(rss)/(1<<20), runtime.GOOS, runtime.GOARCH)
	if rss > loadMaxRSS {
		t.Errorf("peak RSS %.1f MiB under load, want at most %d MiB so that a 128 MB function has room to spare", float64(rss)/(1<<20), loadMaxRSS>>20)
	}
}

// loadRequest asks for a hash and checks the answer.
func loadRequest(client *http.Client, url, token, platform, wantHash string) error {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"platform": "`+platform+`"}`))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	var got success
	if err := json.Unmarshal(body, &got); err != nil {
		return err
	}
	if got.Platform != platform || got.UserHash != wantHash {
		return fmt.Errorf("got %s hash %s, want %s hash %s", got.Platform, got.UserHash, platform, wantHash)
	}
	return nil
}

// plainBinary builds the command as it ships, without the race detector
// that TestMain's build has, so that memory and speed are the real ones.
func plainBinary(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "userhash")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// startBinary is start for another build of the command. The harness
// starts the package's binary; tests run one at a time, so swapping it for
// the start is safe.
func startBinary(t *testing.T, path string, env map[string]string) *Server {
	t.Helper()
	saved := binary
	binary = path
	defer func() { binary = saved }()
	return start(t, env)
}

// peakRSS reads the peak resident set size (VmHWM) of a process, in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("%w (peak RSS is read from /proc, on Linux)", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
