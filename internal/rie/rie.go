// Package rie runs a Lambda function's bootstrap under the AWS Lambda
// Runtime Interface Emulator (built from the Go module proxy by
// `make rie`), the real Lambda runtime API with no Docker, for the tests
// and the cold-start benchmark.
//
//	f, err := rie.Start(".tools/bin/aws-lambda-rie", "bootstrap", env)
//	defer f.Stop()
//	status, body, err := f.Invoke(event) // the function's JSON answer
//	ms, ok := f.InitDuration()           // the emulator's INIT REPORT
//
// The emulator starts the bootstrap on the first invocation, as Lambda does
// on a cold start.
package rie

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Function is one bootstrap running under the emulator.
type Function struct {
	url         string
	runtimeAddr string
	cmd         *exec.Cmd
	out         *output
}

// Start runs bootstrap under the emulator rieBin on two free loopback ports
// (the Invoke API and the runtime API), with exactly env as its
// environment, and returns once the Invoke API listens. bootstrap may be
// any executable the emulator can start (the benchmark's throttled models
// start a script that execs the bootstrap).
func Start(rieBin, bootstrap string, env []string) (*Function, error) {
	f, err := start(rieBin, bootstrap, env)
	if err != nil && strings.Contains(err.Error(), "address already in use") {
		// Another process took a port between our choosing it and the
		// emulator listening on it: nothing to do with the bootstrap.
		f, err = start(rieBin, bootstrap, env)
	}
	return f, err
}

func start(rieBin, bootstrap string, env []string) (*Function, error) {
	addrs, err := freeAddrs(2)
	if err != nil {
		return nil, err
	}
	invokeAddr, runtimeAddr := addrs[0], addrs[1]
	cmd := exec.Command(rieBin, "--log-level", "info",
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", runtimeAddr,
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = env
	f := &Function{url: "http://" + invokeAddr + "/2015-03-31/functions/function/invocations",
		runtimeAddr: runtimeAddr, cmd: cmd, out: &output{}}
	cmd.Stdout, cmd.Stderr = f.out, f.out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the emulator: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", invokeAddr, time.Second)
		if err == nil {
			c.Close()
			return f, nil
		}
		if strings.Contains(f.Output(), "address already in use") || time.Now().After(deadline) {
			f.Stop()
			return nil, fmt.Errorf("the emulator did not listen on %s within 10s: %v\n%s", invokeAddr, err, f.Output())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Invoke sends one event through the Invoke API and returns the
// emulator's status and the function's answer.
func (f *Function) Invoke(event []byte) (int, []byte, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post(f.url, "application/json", bytes.NewReader(event))
	if err != nil {
		return 0, nil, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// Output returns everything the emulator and the function printed so far.
func (f *Function) Output() string { return f.out.String() }

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// InitDuration is the init phase the emulator measured, from the start of
// the bootstrap to its first request for work, in milliseconds; it is
// printed when init ends, before the first answer. (The emulator's REPORT
// line has an "Init Duration" too, which does not measure this.)
func (f *Function) InitDuration() (float64, bool) {
	m := initReport.FindStringSubmatch(f.Output())
	if m == nil {
		return 0, false
	}
	ms, err := strconv.ParseFloat(m[1], 64)
	return ms, err == nil
}

// RuntimeAddr is the runtime API's address, which the emulator hands the
// bootstrap as AWS_LAMBDA_RUNTIME_API.
func (f *Function) RuntimeAddr() string { return f.runtimeAddr }

// Children returns the process IDs of the emulator's children: the
// bootstrap, once the first invocation has started it.
func (f *Function) Children() []int { return childPIDs(f.cmd.Process.Pid) }

// Stop ends the emulator and the function, and returns once the bootstrap
// is gone (a benchmark's cgroup can be removed only when empty).
func (f *Function) Stop() {
	children := f.Children()
	for _, pid := range children {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	_ = f.cmd.Process.Kill()
	_ = f.cmd.Wait()
	for _, pid := range children {
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d/task", pid)); err != nil {
				break
			}
			if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); bytes.Contains(b, []byte(") Z ")) {
				break
			}
		}
	}
}

// freeAddrs returns n distinct free loopback addresses: each listener
// stays open until all are chosen, or the kernel could hand out one port
// twice.
func freeAddrs(n int) ([]string, error) {
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// childPIDs returns the children of the process pid, from every thread's
// /proc children list.
func childPIDs(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// output collects a process's output while the caller reads it.
type output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}
