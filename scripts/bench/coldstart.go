// Cold starts under the AWS Lambda Runtime Interface Emulator: each run is
// a fresh emulator and a fresh bootstrap, timed from the first invocation's
// request to its response (init included), with the emulator's own INIT
// REPORT beside it. Our function fetches its secrets from a loopback
// Secrets Manager fake during init, as it would from Secrets Manager.

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/internal/rie"
)

// coldRun is one cold start.
type coldRun struct {
	initMs  float64   // the emulator's INIT REPORT
	firstMs float64   // first request to its response, init included
	warmMs  []float64 // the emulator's Duration of each warm invocation after it
	out     string    // what the emulator and the function printed
	fnOut   string    // what was printed after the invocation began: the function's start, not the emulator's
}

// coldEnv is what Lambda sets (the execution role's credentials among
// them).
func coldEnv(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=ASIABENCH",
		"AWS_SECRET_ACCESS_KEY=bench",
		"AWS_SESSION_TOKEN=bench-session",
		"AWS_EC2_METADATA_DISABLED=true",
		"TZ=:UTC", // as Lambda sets it
		"AWS_LAMBDA_FUNCTION_NAME=UserHashFunction",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=10",
		"AUTH_MODE=jwt",
		"IOS_SECRET_ID=intercom/ios",
		"ANDROID_SECRET_ID=intercom/android",
		"WEB_SECRET_ID=intercom/web",
	}
}

// newFake returns the Secrets Manager fake with the three platform
// secrets, and a handler that counts the requests it serves (whatever
// the operation: one GetSecretValue per secret or one batch).
func newFake() (*awsfake.SecretsManager, http.Handler, *counter) {
	sm := awsfake.NewSecretsManager()
	for _, p := range []string{"ios", "android", "web"} {
		sm.Put("intercom/"+p, "bench-"+p+"-secret")
	}
	c := &counter{}
	return sm, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.add()
		sm.ServeHTTP(w, r)
	}), c
}

type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) add() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *counter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// launch is how one cold start is run.
type launch struct {
	rie     string
	command string   // the bootstrap, or a wrapper script that execs it
	env     []string // exactly the function's environment
	event   []byte
	proxy   *runtimeProxy // nil: the bootstrap talks to the emulator itself
	// onFirst, with a proxy, runs on the bootstrap's first request for
	// work, given the bootstrap's PID.
	onFirst func(pid int) error
	warm    int // warm invocations after the first
}

// coldStart runs one cold start: a fresh emulator, which starts the
// bootstrap on the first invocation, as Lambda does on a cold start. The
// emulator's own start (waiting for its port) is kept out of the figure.
func coldStart(l launch) (coldRun, error) {
	e, err := rie.Start(l.rie, l.command, l.env)
	if err != nil {
		return coldRun{}, err
	}
	defer e.Stop()
	if l.proxy != nil {
		var first func() error
		if l.onFirst != nil {
			first = func() error {
				pids := e.Children()
				if len(pids) != 1 {
					return fmt.Errorf("the emulator has %d children, want the bootstrap alone", len(pids))
				}
				return l.onFirst(pids[0])
			}
		}
		l.proxy.route(e.RuntimeAddr(), first)
	}
	mark := len(e.Output())
	start := time.Now()
	status, body, err := e.Invoke(l.event)
	first := time.Since(start)
	if err != nil || status != 200 || !bytes.Contains(body, []byte(`"statusCode":200`)) {
		return coldRun{}, fmt.Errorf("the first invocation answered %d %s (%v)\n%s", status, body, err, e.Output())
	}
	if l.proxy != nil && l.onFirst != nil {
		if err := l.proxy.done(); err != nil {
			return coldRun{}, err
		}
	}
	// The emulator's output reaches us through a pipe, a little after it
	// was written: wait for the INIT REPORT.
	var m []string
	for deadline := time.Now().Add(2 * time.Second); m == nil; time.Sleep(2 * time.Millisecond) {
		if m = initReport.FindStringSubmatch(e.Output()); m == nil && time.Now().After(deadline) {
			return coldRun{}, fmt.Errorf("no INIT REPORT in the emulator's output:\n%s", e.Output())
		}
	}
	initMs, _ := strconv.ParseFloat(m[1], 64)
	r := coldRun{initMs: initMs, firstMs: float64(first.Microseconds()) / 1000}
	for i := range l.warm {
		// A typical request comes long after the last one: let a whole
		// period of the CPU quota pass, so that it starts with its share.
		time.Sleep(2 * cfsPeriodUs * time.Microsecond)
		if status, body, err := e.Invoke(l.event); err != nil || status != 200 || !bytes.Contains(body, []byte(`"statusCode":200`)) {
			return coldRun{}, fmt.Errorf("warm invocation: %d %s (%v)", status, body, err)
		}
		// The emulator prints its REPORT as it answers: wait for it.
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(2 * time.Millisecond) {
			if ds := reportDuration.FindAllStringSubmatch(e.Output(), -1); len(ds) >= i+2 {
				ms, _ := strconv.ParseFloat(ds[i+1][1], 64)
				r.warmMs = append(r.warmMs, ms)
				break
			}
			if time.Now().After(deadline) {
				return coldRun{}, fmt.Errorf("no REPORT for warm invocation %d:\n%s", i+1, e.Output())
			}
		}
	}
	r.out = e.Output()
	r.fnOut = r.out[mark:]
	return r, nil
}

var (
	initReport     = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	reportDuration = regexp.MustCompile(`REPORT RequestId: \S+\t(?:Init Duration: [0-9.]+ ms\t)?Duration: ([0-9.]+) ms`)
)

// bootstraps are the executables the cold-start ladder runs, built for
// this machine (the emulator runs them natively), and the arm64 bootstrap
// Lambda gets, for its size.
type bootstraps struct {
	ours, minimal, standin, naive, arm64 string
	compare                              string // ours at another revision; "" without -compare
}

// buildBootstraps builds our bootstrap with SAM's build target, the bare
// function, the stand-in and the naive function with the same flags, and,
// if rev is not "", our bootstrap at that git revision, from its own
// source tree.
func buildBootstraps(dir, rev string) (b bootstraps, err error) {
	arch := runtime.GOARCH
	b.ours = filepath.Join(dir, "ours", "bootstrap")
	if err = run("make", "--no-print-directory", "build-UserHashFunction", "ARTIFACTS_DIR="+filepath.Dir(b.ours), "LAMBDA_ARCH="+arch); err != nil {
		return
	}
	b.arm64 = filepath.Join(dir, "arm64", "bootstrap")
	if err = run("make", "--no-print-directory", "build-UserHashFunction", "ARTIFACTS_DIR="+filepath.Dir(b.arm64), "LAMBDA_ARCH=arm64"); err != nil {
		return
	}
	for pkg, out := range map[string]*string{"./scripts/bench/minimal": &b.minimal, "./scripts/bench/standin": &b.standin, "./scripts/bench/naive": &b.naive} {
		*out = filepath.Join(dir, filepath.Base(pkg), "bootstrap")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", *out, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
		if out, e := cmd.CombinedOutput(); e != nil {
			return b, fmt.Errorf("build %s: %v\n%s", pkg, e, out)
		}
	}
	if rev != "" {
		src := filepath.Join(dir, "rev")
		if err = os.MkdirAll(src, 0o755); err != nil {
			return
		}
		if err = run("sh", "-c", "git archive --format=tar \"$0\" | tar -x -C \"$1\"", rev, src); err != nil {
			return b, fmt.Errorf("-compare %s: %w", rev, err)
		}
		b.compare = filepath.Join(dir, "rev-bootstrap", "bootstrap")
		if err = run("make", "-C", src, "--no-print-directory", "build-UserHashFunction", "ARTIFACTS_DIR="+filepath.Dir(b.compare), "LAMBDA_ARCH="+arch); err != nil {
			return b, fmt.Errorf("-compare %s: %w", rev, err)
		}
	}
	return b, nil
}

// emulatorBin returns the RIE that `make rie` builds into .tools/bin.
func emulatorBin() (string, error) {
	if err := run("make", "--no-print-directory", "rie"); err != nil {
		return "", fmt.Errorf("make rie (builds the Lambda Runtime Interface Emulator from the Go module proxy): %w", err)
	}
	return filepath.Abs(filepath.Join(".tools", "bin", "aws-lambda-rie"))
}

// initTrace runs our bootstrap once with GODEBUG=inittrace=1 and
// LOG_LEVEL=debug (the emulator passes both on, and its own init lines come
// before the invocation, so they are left out) and returns the package init time in total, the
// heaviest packages, and how long each prefetched secret took.
func initTrace(l launch) (total float64, top []string, fetches []string, err error) {
	l.env = append(slices.Clone(l.env), "GODEBUG=inittrace=1", "LOG_LEVEL=debug")
	r, err := coldStart(l)
	if err != nil {
		return 0, nil, nil, err
	}
	line := regexp.MustCompile(`^init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock`)
	type pkg struct {
		name string
		ms   float64
	}
	var pkgs []pkg
	sc := bufio.NewScanner(strings.NewReader(r.fnOut))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		text := sc.Text()
		if m := line.FindStringSubmatch(text); m != nil {
			ms, _ := strconv.ParseFloat(m[2], 64)
			pkgs = append(pkgs, pkg{m[1], ms})
			total += ms
		}
		if strings.Contains(text, `"msg":"secret fetched"`) {
			if i := strings.Index(text, `"took":`); i >= 0 {
				took := strings.SplitN(text[i+len(`"took":`):], ",", 2)[0]
				fetches = append(fetches, strings.Trim(took, `"}`))
			}
		}
	}
	slices.SortFunc(pkgs, func(a, b pkg) int { return int((b.ms - a.ms) * 1000) })
	for _, p := range pkgs[:min(5, len(pkgs))] {
		top = append(top, fmt.Sprintf("%s %.2f ms", p.name, p.ms))
	}
	return total, top, fetches, nil
}

func run(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
	}
	return nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}
