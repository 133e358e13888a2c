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
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/internal/rie"
)

// coldRun is one cold start.
type coldRun struct {
	initMs  float64 // the emulator's INIT REPORT
	firstMs float64 // first request to its response, init included
	out     string  // what the emulator and the function printed
	fnOut   string  // what was printed after the invocation began: the function's start, not the emulator's
}

// coldEnv is what Lambda sets (the execution role's credentials among
// them), pointed at the fake.
func coldEnv(smURL, home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_REGION=us-east-1",
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=ASIABENCH",
		"AWS_SECRET_ACCESS_KEY=bench",
		"AWS_SESSION_TOKEN=bench-session",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + smURL,
		"TZ=:UTC", // as Lambda sets it
		"AWS_LAMBDA_FUNCTION_NAME=UserHashFunction",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=10",
		"AUTH_MODE=jwt",
		"IOS_SECRET_ID=intercom/ios",
		"ANDROID_SECRET_ID=intercom/android",
		"WEB_SECRET_ID=intercom/web",
	}
}

// startFake serves the three platform secrets on loopback.
func startFake() (*awsfake.SecretsManager, *httptest.Server) {
	sm := awsfake.NewSecretsManager()
	for _, p := range []string{"ios", "android", "web"} {
		sm.Put("intercom/"+p, "bench-"+p+"-secret")
	}
	return sm, httptest.NewServer(sm)
}

// coldStart runs bootstrap once under a fresh emulator and invokes it with
// event.
func coldStart(rieBin, bootstrap string, env []string, event []byte) (coldRun, error) {
	// The emulator starts the bootstrap on the first invocation, as Lambda
	// does on a cold start; rie.Start waits for its port first, which keeps
	// the emulator's own start out of the figure.
	f, err := rie.Start(rieBin, bootstrap, env)
	if err != nil {
		return coldRun{}, err
	}
	defer f.Stop()
	mark := len(f.Output())
	start := time.Now()
	status, body, err := f.Invoke(event)
	first := time.Since(start)
	if err != nil || status != 200 || !bytes.Contains(body, []byte(`"statusCode":200`)) {
		return coldRun{}, fmt.Errorf("the first invocation answered %d %s (%v)\n%s", status, body, err, f.Output())
	}
	initMs, ok := f.InitDuration()
	if !ok {
		return coldRun{}, fmt.Errorf("no INIT REPORT in the emulator's output:\n%s", f.Output())
	}
	all := f.Output()
	return coldRun{initMs: initMs, firstMs: float64(first.Microseconds()) / 1000, out: all, fnOut: all[mark:]}, nil
}

// bootstraps are the executables the cold-start ladder runs, built for
// this machine (the emulator runs them natively), and the arm64 bootstrap
// Lambda gets, for its size.
type bootstraps struct {
	ours, minimal, standin, arm64 string
	compare                       string // ours at another revision; "" without -compare
}

// buildBootstraps builds our bootstrap with SAM's build target, the bare
// function and the stand-in with the same flags, and, if rev is not "",
// our bootstrap at that git revision, from its own source tree.
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
	for pkg, out := range map[string]*string{"./scripts/bench/minimal": &b.minimal, "./scripts/bench/standin": &b.standin} {
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

// rung is one bootstrap of the cold-start ladder.
type rung struct {
	name      string
	bootstrap string
	env       []string // added to the common environment
	fetches   int      // the Secrets Manager calls its cold start must make
	first     []float64
	init      []float64
}

// ladder returns the rungs: the bare function, the stand-in at each step,
// our bootstrap, and our bootstrap at another revision if there is one.
func ladder(b bootstraps, rev string) []*rung {
	rs := []*rung{
		{name: "bare aws-lambda-go function", bootstrap: b.minimal},
		{name: "+ our packages linked (binary size, package init)", bootstrap: b.standin, env: []string{"BENCH_STEP=link"}},
		{name: "+ config, AWS configuration, clients, handler", bootstrap: b.standin, env: []string{"BENCH_STEP=clients"}},
		{name: "+ the three secrets fetched during init", bootstrap: b.standin, env: []string{"BENCH_STEP=prefetch"}, fetches: 3},
		{name: "userhash: + the first request through the handler", bootstrap: b.ours, fetches: 3},
	}
	if b.compare != "" {
		rs = append(rs, &rung{name: "userhash at " + rev, bootstrap: b.compare, fetches: 3})
	}
	return rs
}

// emulator returns the RIE that `make tools` builds into .tools/bin.
func emulator() (string, error) {
	if err := run("make", "--no-print-directory", "tools"); err != nil {
		return "", fmt.Errorf("make tools (builds the Lambda Runtime Interface Emulator from the Go module proxy): %w", err)
	}
	return filepath.Abs(filepath.Join(".tools", "bin", "aws-lambda-rie"))
}

// initTrace runs our bootstrap once with GODEBUG=inittrace=1 and
// LOG_LEVEL=debug (the emulator passes both on, and its own init lines come
// before the invocation, so they are left out) and returns the package init time in total, the
// heaviest packages, and how long each prefetched secret took.
func initTrace(rie, bootstrap string, env []string, event []byte) (total float64, top []string, fetches []string, err error) {
	env = append(slices.Clone(env), "GODEBUG=inittrace=1", "LOG_LEVEL=debug")
	r, err := coldStart(rie, bootstrap, env, event)
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
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}
