// Command bench measures what issue #6 asks of the function and prints it
// as Markdown, the body of BENCHMARKS.md. Run it from the repository root
// (make bench does):
//
//	go run ./scripts/bench            # everything, about two minutes
//	go run ./scripts/bench -runs 3    # fewer cold starts
//
// It measures the warm path (the whole handler on a secret cache hit beside
// a bare HMAC-SHA256), cold starts under the Lambda Runtime Interface
// Emulator (ours beside a minimal aws-lambda-go function), where our init
// time goes, the bootstrap's size, and the peak RSS under the load test.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The goals of issue #6.
const (
	goalWarmNs      = 15000
	goalWarmAllocs  = 40
	goalColdRatio   = 1.5
	goalBootstrapMB = 10
	goalRSSMiB      = 128
)

func main() {
	runs := flag.Int("runs", 10, "cold starts of each function")
	rounds := flag.Int("rounds", 5, "rounds of each warm-path benchmark")
	flag.Parse()
	if err := bench(*runs, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func bench(runs, rounds int) error {
	if _, err := os.Stat("go.mod"); err != nil {
		return fmt.Errorf("run from the repository root: %w", err)
	}
	cpu := cpuName()
	fmt.Printf("Measured %s on %s/%s, %d CPUs (%s), %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpu, runtime.Version())

	// The warm path.
	w, err := newWarm(".")
	if err != nil {
		return err
	}
	var hNs, hAllocs, mNs, mAllocs []float64
	for range rounds {
		h := testing.Benchmark(w.benchHandler)
		m := testing.Benchmark(benchHMAC)
		hNs, hAllocs = append(hNs, float64(h.T.Nanoseconds())/float64(h.N)), append(hAllocs, float64(h.AllocsPerOp()))
		mNs, mAllocs = append(mNs, float64(m.T.Nanoseconds())/float64(m.N)), append(mAllocs, float64(m.AllocsPerOp()))
	}
	w.close()
	handlerNs, handlerAllocs := median(hNs), median(hAllocs)
	fmt.Println("## Warm path")
	fmt.Println()
	fmt.Printf("The whole handler on a secret cache hit (events/ios.json decoded in, response out, JWT included, request log and EMF line written to io.Discard) beside HMAC-SHA256 with a precomputed key; median of %d rounds of `testing.Benchmark`.\n\n", rounds)
	fmt.Println("| | ns/op | allocs/op |")
	fmt.Println("|---|---:|---:|")
	fmt.Printf("| handler, cache hit | %.0f | %.0f |\n", handlerNs, handlerAllocs)
	fmt.Printf("| raw HMAC-SHA256 | %.0f | %.0f |\n", median(mNs), median(mAllocs))
	fmt.Printf("| ratio | %.0fx | %s |\n\n", handlerNs/median(mNs), ratioAllocs(handlerAllocs, median(mAllocs)))
	fmt.Printf("Goal: under %d µs (%s) and under %d allocations (%s).\n\n",
		goalWarmNs/1000, verdict(handlerNs < goalWarmNs), goalWarmAllocs, verdict(handlerAllocs < goalWarmAllocs))

	// The bootstraps and cold starts.
	dir, err := os.MkdirTemp("", "userhash-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ours, minimal, arm64, err := buildBootstraps(dir)
	if err != nil {
		return err
	}
	rie, err := emulator()
	if err != nil {
		return err
	}
	sm, srv := startFake()
	defer srv.Close()
	event, err := os.ReadFile("events/ios.json")
	if err != nil {
		return err
	}
	home, err := os.MkdirTemp(dir, "home")
	if err != nil {
		return err
	}
	env := coldEnv(srv.URL, home)
	var oursInit, oursFirst, minInit, minFirst []float64
	for range runs {
		before := sm.TotalCalls()
		r, err := coldStart(rie, ours, env, event)
		if err != nil {
			return fmt.Errorf("our cold start: %w", err)
		}
		if calls := sm.TotalCalls() - before; calls != 3 {
			return fmt.Errorf("our cold start made %d Secrets Manager calls, want 3 (one per platform)", calls)
		}
		oursInit, oursFirst = append(oursInit, r.initMs), append(oursFirst, r.firstMs)
		r, err = coldStart(rie, minimal, env, event)
		if err != nil {
			return fmt.Errorf("the minimal function's cold start: %w", err)
		}
		minInit, minFirst = append(minInit, r.initMs), append(minFirst, r.firstMs)
	}
	ratio := median(oursFirst) / median(minFirst)
	fmt.Println("## Cold start")
	fmt.Println()
	fmt.Printf("%d fresh starts of each function under the Lambda Runtime Interface Emulator (`make tools`), alternating, both built with `CGO_ENABLED=0 -tags lambda.norpc -trimpath -ldflags='-s -w'` for %s/%s. Ours runs in jwt mode and fetches its three secrets during init from a loopback Secrets Manager fake (plain HTTP: no TLS handshake, unlike AWS). Medians in ms.\n\n", runs, runtime.GOOS, runtime.GOARCH)
	fmt.Println("| | INIT REPORT | first request to response (init included) |")
	fmt.Println("|---|---:|---:|")
	fmt.Printf("| userhash | %.1f | %.1f |\n", median(oursInit), median(oursFirst))
	fmt.Printf("| minimal aws-lambda-go function | %.1f | %.1f |\n", median(minInit), median(minFirst))
	fmt.Printf("| ratio | %.2fx | %.2fx |\n\n", median(oursInit)/median(minInit), ratio)
	fmt.Printf("Goal: our first response within %.1fx of the minimal function's (%s).\n\n", goalColdRatio, verdict(ratio <= goalColdRatio))
	fmt.Printf("Each run, all first responses in ms: userhash %s; minimal %s.\n\n", list(oursFirst), list(minFirst))

	total, top, fetches, err := initTrace(rie, ours, env, event)
	if err != nil {
		return fmt.Errorf("init trace: %w", err)
	}
	fmt.Println("Where our init goes (one more run with `GODEBUG=inittrace=1 LOG_LEVEL=debug`):")
	fmt.Println()
	fmt.Printf("- package initialisation: %.2f ms in all; the heaviest: %s\n", total, strings.Join(top, ", "))
	fmt.Printf("- each prefetched GetSecretValue (in parallel): %s\n", strings.Join(fetches, ", "))
	fmt.Println("- the rest of the INIT REPORT is the Go runtime's start, config.Load, the AWS config and the client set-up")
	fmt.Println()

	// Size.
	st, err := os.Stat(arm64)
	if err != nil {
		return err
	}
	mb := float64(st.Size()) / 1e6
	fmt.Println("## Bootstrap size")
	fmt.Println()
	fmt.Printf("`make build-UserHashFunction` (linux/arm64, as Lambda runs it): %d bytes, %.1f MB. Goal: under %d MB (%s).\n\n",
		st.Size(), mb, goalBootstrapMB, verdict(mb < goalBootstrapMB))

	// Peak RSS under the load test.
	load, err := loadTest()
	if err != nil {
		return err
	}
	fmt.Println("## Load and peak RSS")
	fmt.Println()
	fmt.Println("`go test -run '^TestLoad$' -v ./functions/userhash`: the local server (built without the race detector) with its secrets in the Secrets Manager fake, in jwt mode, takes 10,000 requests from 50 concurrent clients; every answer is checked, and the fake must count exactly one GetSecretValue per secret.")
	fmt.Println()
	fmt.Println("    " + load)
	fmt.Println()
	rss := regexp.MustCompile(`peak_rss_mib=([0-9.]+)`).FindStringSubmatch(load)
	if rss != nil {
		var mib float64
		fmt.Sscan(rss[1], &mib)
		fmt.Printf("Goal: fits a %d MB function with room to spare: %.1f MiB peak (%s).\n", goalRSSMiB, mib, verdict(mib < goalRSSMiB/2))
	}
	return nil
}

// loadTest runs the load test and returns its LOAD line.
func loadTest() (string, error) {
	cmd := exec.Command("go", "test", "-count=1", "-run", "^TestLoad$", "-v", "./functions/userhash")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("the load test failed: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`LOAD (.*)`).FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("the load test printed no LOAD line:\n%s", out)
	}
	return strings.TrimSpace(string(m[1])), nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func ratioAllocs(a, b float64) string {
	if b == 0 {
		return fmt.Sprintf("%.0f more", a)
	}
	return fmt.Sprintf("%.0fx", a/b)
}

func list(xs []float64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprintf("%.1f", x)
	}
	return strings.Join(s, ", ")
}

func cpuName() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
