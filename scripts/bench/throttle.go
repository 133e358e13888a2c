// The CPU share of a memory size: Lambda allots CPU in proportion to
// memory, one vCPU at 1,769 MB, so a 128 MB function runs on 128/1769 of
// one. Here that share is a cgroup v1 CPU quota, applied either from the
// bootstrap's first request for work (init ran on a whole core, which is
// what Lambda is commonly measured to do) or from its start. A small
// runtime-API proxy between the bootstrap and the emulator sees that first
// request.

package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

const (
	cgroupCPU   = "/sys/fs/cgroup/cpu"
	cfsPeriodUs = 20000 // the quota's period: 20 ms
	vcpuMB      = 1769  // the memory size at which Lambda allots one vCPU
)

// quotaUs is memoryMB's share of one CPU per period.
func quotaUs(memoryMB int) int {
	return max(1000, memoryMB*cfsPeriodUs/vcpuMB)
}

// cgroups is one cgroup per memory size, each with its quota, under a
// parent named for this run.
type cgroups struct {
	parent string
	byMB   map[int]string
}

// newCgroups creates them, or says why it cannot (not root, no cgroup v1
// CPU controller, a read-only /sys).
func newCgroups(sizes []int) (*cgroups, error) {
	// An earlier run that was interrupted left its cgroups behind: remove
	// them, which succeeds only for those whose processes have all ended.
	stale, _ := filepath.Glob(filepath.Join(cgroupCPU, "userhash-bench-*"))
	for _, dir := range stale {
		subs, _ := filepath.Glob(filepath.Join(dir, "m*"))
		for _, sub := range subs {
			_ = os.Remove(sub)
		}
		_ = os.Remove(dir)
	}
	parent := filepath.Join(cgroupCPU, fmt.Sprintf("userhash-bench-%d", os.Getpid()))
	if err := os.Mkdir(parent, 0o755); err != nil {
		return nil, err
	}
	c := &cgroups{parent: parent, byMB: map[int]string{}}
	for _, mb := range sizes {
		dir := filepath.Join(parent, fmt.Sprintf("m%d", mb))
		if err := os.Mkdir(dir, 0o755); err != nil {
			c.remove()
			return nil, err
		}
		c.byMB[mb] = dir
		for file, v := range map[string]int{"cpu.cfs_period_us": cfsPeriodUs, "cpu.cfs_quota_us": quotaUs(mb)} {
			if err := os.WriteFile(filepath.Join(dir, file), []byte(strconv.Itoa(v)), 0o644); err != nil {
				c.remove()
				return nil, err
			}
		}
	}
	return c, nil
}

// join moves the process pid, every thread of it, into memoryMB's cgroup.
func (c *cgroups) join(memoryMB, pid int) error {
	return os.WriteFile(filepath.Join(c.byMB[memoryMB], "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644)
}

// throttledUs is how long the processes in memoryMB's cgroup have waited
// for their quota in all.
func (c *cgroups) throttledUs(memoryMB int) int64 {
	b, err := os.ReadFile(filepath.Join(c.byMB[memoryMB], "cpu.stat"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "throttled_time "); ok {
			ns, _ := strconv.ParseInt(v, 10, 64)
			return ns / 1000
		}
	}
	return 0
}

// remove deletes the cgroups; each must be empty, so this runs after
// every bootstrap has ended.
func (c *cgroups) remove() {
	for _, dir := range c.byMB {
		_ = os.Remove(dir)
	}
	_ = os.Remove(c.parent)
}

// wrapper writes a script that starts bootstrap the way the throttled
// models need: pointed at the proxy and, when cgroup is not "", inside
// that cgroup from its first instruction (the script joins it and then
// execs the bootstrap, which keeps the script's PID). The emulator sets
// AWS_LAMBDA_RUNTIME_API itself, whatever its environment says, hence a
// script.
func wrapper(dir, name, bootstrap, proxyAddr, cgroup string) (string, error) {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	if cgroup != "" {
		fmt.Fprintf(&b, "echo $$ > %s\n", filepath.Join(cgroup, "cgroup.procs"))
	}
	fmt.Fprintf(&b, "export AWS_LAMBDA_RUNTIME_API=%s\nexec %s\n", proxyAddr, bootstrap)
	path := filepath.Join(dir, name)
	return path, os.WriteFile(path, []byte(b.String()), 0o755)
}

// runtimeProxy forwards the runtime API from the bootstrap to the
// emulator of the cold start under way, and can move the bootstrap into a
// cgroup when it first asks for work. Cold starts run one at a time, so
// one proxy serves them all.
type runtimeProxy struct {
	addr string
	srv  *http.Server

	mu      sync.Mutex
	target  *url.URL
	onFirst func() error // run before forwarding the first /invocation/next; nil for none
	err     error
}

func startRuntimeProxy() (*runtimeProxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &runtimeProxy{addr: l.Addr().String()}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			p.mu.Lock()
			t := p.target
			p.mu.Unlock()
			r.SetURL(t)
			r.Out.Host = r.In.Host
		},
		// A bootstrap's request for work is cut off when its cold start
		// ends and the emulator is stopped: nothing to report.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) },
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/runtime/invocation/next") {
			p.mu.Lock()
			first := p.onFirst
			p.onFirst = nil
			p.mu.Unlock()
			if first != nil {
				if err := first(); err != nil {
					p.mu.Lock()
					p.err = err
					p.mu.Unlock()
				}
			}
		}
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

// route points the proxy at the emulator's runtime API on addr, with
// onFirst to run on the bootstrap's first request for work.
func (p *runtimeProxy) route(addr string, onFirst func() error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = &url.URL{Scheme: "http", Host: addr}
	p.onFirst = onFirst
	p.err = nil
}

// done reports whether onFirst ran, and its error.
func (p *runtimeProxy) done() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.onFirst != nil {
		return errors.New("the bootstrap never asked the proxy for work")
	}
	return p.err
}

func (p *runtimeProxy) Close() { _ = p.srv.Close() }
