// Package rie runs a Lambda function's bootstrap under the AWS Lambda
// Runtime Interface Emulator (built from the Go module proxy by
// `make tools`), the real Lambda runtime API with no Docker, for the tests
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
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// Function is one bootstrap running under the emulator.
type Function struct {
	url string
	cmd *exec.Cmd
	out *output
}

// Start runs bootstrap under the emulator rieBin on two free loopback ports
// (the Invoke API and the runtime API), with exactly env as its
// environment, and returns once the Invoke API listens.
func Start(rieBin, bootstrap string, env []string) (*Function, error) {
	invokeAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	runtimeAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(rieBin, "--log-level", "info",
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", runtimeAddr,
		bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = env
	f := &Function{url: "http://" + invokeAddr + "/2015-03-31/functions/function/invocations", cmd: cmd, out: &output{}}
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
		if time.Now().After(deadline) {
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

// Stop ends the emulator and the function.
func (f *Function) Stop() {
	_ = f.cmd.Process.Kill()
	_ = f.cmd.Wait()
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
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
