// The cold-start tables: every bootstrap in every model, rounds of them in
// a shuffled order, medians and per-round ratios.

package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// The model kinds.
const (
	plainHTTP  = iota // today's bench: the fake on plain HTTP, a whole core
	unthrottle        // HTTPS, a whole core
	boost             // HTTPS, the memory size's share from the first /invocation/next
	throughout        // HTTPS, the share from the bootstrap's start
)

// Issue #19's goals: ours ÷ bare in each HTTPS model at the default
// memory size.
var goalRatio = map[int]float64{unthrottle: 2.0, boost: 1.25, throughout: 2.5}

// Lambda's arm64 price (us-east-1): per GB-second of billed duration, and
// per request.
const (
	priceGBSecond = 0.0000133334
	priceRequest  = 0.20 / 1e6
)

type model struct {
	kind int
	mb   int // the memory size modelled; its CPU share in the throttled kinds
}

func (m model) String() string {
	switch m.kind {
	case plainHTTP:
		return "plain HTTP, unthrottled"
	case unthrottle:
		return "HTTPS, unthrottled"
	case boost:
		return fmt.Sprintf("HTTPS, %d MB share after an unthrottled init", m.mb)
	}
	return fmt.Sprintf("HTTPS, %d MB share throughout", m.mb)
}

// The rungs, in the tables' order.
const (
	rBare = iota
	rLink
	rClients
	rPrefetch
	rOurs
	rNaive
	rCompare
	nRungs
)

type rung struct {
	name      string
	bootstrap string
	env       []string // added to the common environment
	fetches   bool     // whether its cold start calls Secrets Manager
	noCA      bool     // run without AWS_CA_BUNDLE
}

// cell is one rung's runs in one model.
type cell struct {
	first, init, warm []float64
}

// trial is one cold start of a round.
type trial struct {
	m    int // index into models
	rung int
}

func rungs(b bootstraps, rev string) []*rung {
	rs := make([]*rung, nRungs)
	rs[rBare] = &rung{name: "bare aws-lambda-go function", bootstrap: b.minimal}
	rs[rLink] = &rung{name: "+ our packages linked (binary size, package init)", bootstrap: b.standin, env: []string{"BENCH_STEP=link"}}
	rs[rClients] = &rung{name: "+ config, AWS configuration, clients, handler", bootstrap: b.standin, env: []string{"BENCH_STEP=clients"}}
	rs[rPrefetch] = &rung{name: "+ the three secrets fetched during init", bootstrap: b.standin, env: []string{"BENCH_STEP=prefetch"}, fetches: true}
	rs[rOurs] = &rung{name: "userhash: + the first request through the handler", bootstrap: b.ours, fetches: true}
	// The naive function loads the SDK's default configuration, which
	// honours AWS_CA_BUNDLE by trusting that bundle alone; in Lambda no
	// such variable is set and it parses the system roots, so here too.
	rs[rNaive] = &rung{name: "naive Go function (SDK default config, one lazy GetSecretValue)", bootstrap: b.naive, fetches: true, noCA: true}
	if b.compare != "" {
		rs[rCompare] = &rung{name: "userhash at " + rev, bootstrap: b.compare, fetches: true}
	}
	return rs
}

// coldStarts runs the models and prints their tables.
func coldStarts(dir string, bins bootstraps, o options) error {
	rie, err := emulatorBin()
	if err != nil {
		return err
	}
	event, err := os.ReadFile("events/ios.json")
	if err != nil {
		return err
	}
	home, err := os.MkdirTemp(dir, "home")
	if err != nil {
		return err
	}
	if o.defaultMB == 0 {
		o.defaultMB = templateMemory()
	}
	if !slices.Contains(o.sizes, o.defaultMB) {
		o.sizes = append([]int{o.defaultMB}, o.sizes...)
	}

	_, plainH, plainCalls := newFake()
	plain := httptest.NewServer(plainH)
	defer plain.Close()
	_, tlsH, tlsCalls := newFake()
	fake, err := startTLSFake(tlsH, dir)
	if err != nil {
		return err
	}
	defer fake.Close()

	rs := rungs(bins, o.compare)
	all := []int{rBare, rLink, rClients, rPrefetch, rOurs, rNaive, rCompare}
	models := []model{{plainHTTP, o.defaultMB}, {unthrottle, o.defaultMB}}
	plan := map[int][]int{0: {rBare, rNaive, rOurs, rCompare}, 1: all}

	var cg *cgroups
	var proxy *runtimeProxy
	skipped := ""
	if o.throttled {
		if cg, err = newCgroups(o.sizes); err != nil {
			skipped = fmt.Sprintf("The throttled models are skipped: they need a writable cgroup v1 CPU controller at %s (root, not in CI): %v.", cgroupCPU, err)
		} else {
			defer cg.remove()
			if proxy, err = startRuntimeProxy(); err != nil {
				return err
			}
			defer proxy.Close()
			for _, kind := range []int{boost, throughout} {
				for _, mb := range o.sizes {
					models = append(models, model{kind, mb})
					if mb == o.defaultMB {
						plan[len(models)-1] = all
					} else {
						plan[len(models)-1] = []int{rBare, rOurs}
					}
				}
			}
		}
	} else {
		skipped = "The throttled models are skipped (-throttled=false)."
	}
	if skipped != "" {
		fmt.Fprintln(os.Stderr, "bench:", skipped)
	}

	base := coldEnv(home)
	envFor := func(m model, r *rung) []string {
		env := append(slices.Clone(base), "AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(m.mb))
		if m.kind == plainHTTP {
			env = append(env, "AWS_ENDPOINT_URL_SECRETS_MANAGER="+plain.URL)
		} else {
			for _, kv := range fake.env() {
				if !(r.noCA && strings.HasPrefix(kv, "AWS_CA_BUNDLE=")) {
					env = append(env, kv)
				}
			}
		}
		return append(env, r.env...)
	}
	scripts := map[string]string{}
	launchFor := func(m model, ri int) (launch, error) {
		r := rs[ri]
		l := launch{rie: rie, command: r.bootstrap, env: envFor(m, r), event: event}
		if m.kind == boost || m.kind == throughout {
			cgroup := ""
			if m.kind == throughout {
				cgroup = cg.byMB[m.mb]
			}
			key := fmt.Sprintf("%d-%d-%d", m.kind, m.mb, ri)
			if scripts[key] == "" {
				path, err := wrapper(dir, "start-"+key, r.bootstrap, proxy.addr, cgroup)
				if err != nil {
					return l, err
				}
				scripts[key] = path
			}
			l.command, l.proxy = scripts[key], proxy
			if m.kind == boost {
				mb := m.mb
				l.onFirst = func(pid int) error { return cg.join(mb, pid) }
			}
			if ri == rOurs {
				l.warm = 3
			}
		}
		return l, nil
	}

	var trials []trial
	for mi := range models {
		for _, ri := range plan[mi] {
			if rs[ri] != nil {
				trials = append(trials, trial{mi, ri})
			}
		}
	}
	cells := make([][]cell, len(models))
	for i := range cells {
		cells[i] = make([]cell, nRungs)
	}
	// Each round starts every trial in a new order, so that a machine
	// slowing down or speeding up within a round favours none of them.
	order := rand.New(rand.NewPCG(1, 19))
	for round := range o.runs {
		fmt.Fprintf(os.Stderr, "bench: cold starts, round %d of %d (%d each)\n", round+1, o.runs, len(trials))
		order.Shuffle(len(trials), func(i, j int) { trials[i], trials[j] = trials[j], trials[i] })
		for _, t := range trials {
			m, r := models[t.m], rs[t.rung]
			calls := tlsCalls
			if m.kind == plainHTTP {
				calls = plainCalls
			}
			l, err := launchFor(m, t.rung)
			if err != nil {
				return err
			}
			before := calls.get()
			c, err := coldStart(l)
			if err != nil {
				return fmt.Errorf("%s, %s: %w", m, r.name, err)
			}
			if n := calls.get() - before; (n > 0) != r.fetches {
				return fmt.Errorf("%s, %s: the cold start made %d Secrets Manager calls", m, r.name, n)
			}
			cl := &cells[t.m][t.rung]
			cl.first, cl.init, cl.warm = append(cl.first, c.firstMs), append(cl.init, c.initMs), append(cl.warm, c.warmMs...)
		}
	}

	// The tables.
	find := func(kind, mb int) int {
		for i, m := range models {
			if m.kind == kind && (kind == plainHTTP || kind == unthrottle || m.mb == mb) {
				return i
			}
		}
		return -1
	}
	ratios := func(mi, ri int) []float64 {
		a, b := cells[mi][ri].first, cells[mi][rBare].first
		out := make([]float64, len(a))
		for i := range a {
			out[i] = a[i] / b[i]
		}
		return out
	}
	main3 := []int{find(unthrottle, 0), find(boost, o.defaultMB), find(throughout, o.defaultMB)}
	main3 = slices.DeleteFunc(main3, func(i int) bool { return i < 0 })

	fmt.Println("## Cold start")
	fmt.Println()
	fmt.Printf("%d rounds; each round starts every bootstrap below once per model, fresh, under the Lambda Runtime Interface Emulator (`make rie`), in an order shuffled anew each round. All are built with `CGO_ENABLED=0 -tags lambda.norpc -trimpath -ldflags='-s -w'` for %s/%s and get what Lambda sets (region, the execution role's credentials, `TZ`, the memory size). The function runs in jwt mode and fetches its three secrets during init from a loopback Secrets Manager fake on HTTPS (its own CA, RSA 2048 as AWS's chains are; TCP_NODELAY was set on %d of the %d connections it accepted). Every bootstrap reads its roots laid out as on provided.al2023: `SSL_CERT_FILE` the system bundle with the fake's CA appended (%d certificates), `SSL_CERT_DIR` a directory holding that bundle again; `AWS_CA_BUNDLE` is the fake's CA alone (the naive function runs without it, as in Lambda: the SDK's default configuration would trust that bundle alone). The first response is timed from the invocation's request to its response, the process's start and init included; medians in ms, and for ratios the median of each round's own ratio to the bare function's.\n\n",
		o.runs, runtime.GOOS, runtime.GOARCH, fake.nodelay.Load(), fake.conns.Load(), fake.roots)
	if skipped != "" {
		fmt.Println(skipped)
		fmt.Println()
	}

	fmt.Println("### The three models")
	fmt.Println()
	fmt.Print("| |")
	for _, mi := range main3 {
		fmt.Printf(" %s |", models[mi])
	}
	fmt.Print("\n|---|")
	for range main3 {
		fmt.Print("---:|")
	}
	fmt.Println()
	rows := []int{rBare, rNaive, rOurs, rCompare}
	names := map[int]string{rBare: "bare aws-lambda-go function", rNaive: "naive Go function", rOurs: "userhash", rCompare: "userhash at " + o.compare}
	for _, ri := range rows {
		if rs[ri] == nil {
			continue
		}
		fmt.Printf("| %s |", names[ri])
		for _, mi := range main3 {
			fmt.Printf(" %.1f |", median(cells[mi][ri].first))
		}
		fmt.Println()
	}
	for _, ri := range rows[1:] {
		if rs[ri] == nil {
			continue
		}
		fmt.Printf("| %s ÷ bare |", names[ri])
		for _, mi := range main3 {
			fmt.Printf(" %.2fx |", median(ratios(mi, ri)))
		}
		fmt.Println()
	}
	fmt.Println()
	for _, mi := range main3 {
		goal := goalRatio[models[mi].kind]
		got := median(ratios(mi, rOurs))
		fmt.Printf("- Goal, %s: userhash within %.2fx of the bare function: %.2fx (%s).\n", models[mi], goal, got, verdict(got <= goal))
	}
	fmt.Println()

	fmt.Printf("### Where the time goes: the ladder at %d MB\n\n", o.defaultMB)
	fmt.Println("Each rung adds one step of our cold start to the one above it: the stand-in (`scripts/bench/standin`) links what the function links and runs its init up to that step, then answers like the bare function. \"step\" is the rung's median less the one above it's; INIT REPORT is the emulator's.")
	fmt.Println()
	fmt.Print("| |")
	for _, mi := range main3 {
		fmt.Printf(" %s | step | INIT REPORT |", models[mi])
	}
	fmt.Print("\n|---|")
	for range main3 {
		fmt.Print("---:|---:|---:|")
	}
	fmt.Println()
	for _, ri := range []int{rBare, rLink, rClients, rPrefetch, rOurs} {
		fmt.Printf("| %s |", rs[ri].name)
		for _, mi := range main3 {
			step := ""
			if ri != rBare {
				step = fmt.Sprintf("%+.1f", median(cells[mi][ri].first)-median(cells[mi][ri-1].first))
			}
			fmt.Printf(" %.1f | %s | %.1f |", median(cells[mi][ri].first), step, median(cells[mi][ri].init))
		}
		fmt.Println()
	}
	fmt.Println()

	if cg != nil {
		fmt.Println("### Memory size")
		fmt.Println()
		fmt.Printf("The CPU share is the memory size ÷ %d MB of one CPU (a cgroup quota per %d ms). Cold first response of the bare function and of userhash, medians in ms, and userhash ÷ bare; the warm duration is the emulator's `Duration` of three more invocations after each of userhash's cold starts (throttled, whatever the model); Lambda bills it rounded up to the millisecond. Cost at Lambda's arm64 price, $%.10f per GB-second and $0.20 per million requests: a million warm requests, and a million cold starts (init and first invocation billed together, as for every provided.al2023 function).\n\n",
			vcpuMB, cfsPeriodUs/1000, priceGBSecond)
		fmt.Println("| memory | CPU share | after an unthrottled init: bare | userhash | × bare | throughout: bare | userhash | × bare | warm duration | $ per 1M warm requests | $ per 1M cold starts (after unthrottled init / throughout) |")
		fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
		sizes := slices.Clone(o.sizes)
		slices.Sort(sizes)
		for _, mb := range sizes {
			b, t := find(boost, mb), find(throughout, mb)
			warm := median(append(slices.Clone(cells[b][rOurs].warm), cells[t][rOurs].warm...))
			fmt.Printf("| %d MB | %.1f%% | %.1f | %.1f | %.2fx | %.1f | %.1f | %.2fx | %.2f ms | $%.3f | $%.2f / $%.2f |\n", mb, 100*float64(quotaUs(mb))/cfsPeriodUs,
				median(cells[b][rBare].first), median(cells[b][rOurs].first), median(ratios(b, rOurs)),
				median(cells[t][rBare].first), median(cells[t][rOurs].first), median(ratios(t, rOurs)),
				warm, 1e6*cost(mb, warm), 1e6*cost(mb, median(cells[b][rOurs].first)), 1e6*cost(mb, median(cells[t][rOurs].first)))
		}
		fmt.Println()
		fmt.Printf("Throttled time the cgroups counted in all: %s.\n\n", throttledSummary(cg, sizes))
	}

	if mi := find(plainHTTP, 0); mi >= 0 {
		fmt.Println("### Plain HTTP, unthrottled (the bench before issue #19)")
		fmt.Println()
		fmt.Println("The same bootstraps with the fake on plain HTTP (no TLS handshake, no roots parsed for it), on a whole core.")
		fmt.Println()
		fmt.Println("| | first response | × bare | INIT REPORT |")
		fmt.Println("|---|---:|---:|---:|")
		for _, ri := range rows {
			if rs[ri] == nil {
				continue
			}
			x := "1.00x"
			if ri != rBare {
				x = fmt.Sprintf("%.2fx", median(ratios(mi, ri)))
			}
			fmt.Printf("| %s | %.1f | %s | %.1f |\n", names[ri], median(cells[mi][ri].first), x, median(cells[mi][ri].init))
		}
		fmt.Println()
	}

	if mi := find(unthrottle, 0); mi >= 0 {
		fmt.Printf("Each round's first responses in ms, HTTPS unthrottled: userhash %s; bare %s.\n\n", list(cells[mi][rOurs].first), list(cells[mi][rBare].first))
		l, err := launchFor(models[mi], rOurs)
		if err != nil {
			return err
		}
		total, top, fetches, err := initTrace(l)
		if err != nil {
			return fmt.Errorf("init trace: %w", err)
		}
		if len(fetches) == 0 {
			fetches = []string{"none logged"}
		}
		fmt.Println("Inside our init (one more run of the real bootstrap, HTTPS unthrottled, with `GODEBUG=inittrace=1 LOG_LEVEL=debug`):")
		fmt.Println()
		fmt.Printf("- package initialisation: %.2f ms in all; the heaviest: %s\n", total, strings.Join(top, ", "))
		fmt.Printf("- each prefetched secret, as logged: %s\n", strings.Join(fetches, ", "))
		fmt.Println()
	}
	return nil
}

// cost is one invocation's price at memoryMB for ms of duration, billed
// rounded up to the millisecond.
func cost(memoryMB int, ms float64) float64 {
	return priceRequest + math.Ceil(ms)/1000*float64(memoryMB)/1024*priceGBSecond
}

func throttledSummary(cg *cgroups, sizes []int) string {
	var parts []string
	for _, mb := range sizes {
		parts = append(parts, fmt.Sprintf("%d MB %.1f s", mb, float64(cg.throttledUs(mb))/1e6))
	}
	return strings.Join(parts, ", ")
}

// templateMemory is the function's memory size in template.yaml: the
// MemorySize parameter's default, or a literal MemorySize; 128 if neither
// is found.
func templateMemory() int {
	b, err := os.ReadFile("template.yaml")
	if err != nil {
		return 128
	}
	if m := regexp.MustCompile(`(?m)^  MemorySize:\s*\n(?:    .*\n)*?    Default:\s*(\d+)`).FindSubmatch(b); m != nil {
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	if m := regexp.MustCompile(`(?m)^\s+MemorySize:\s*(\d+)\s*$`).FindSubmatch(b); m != nil {
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	return 128
}
