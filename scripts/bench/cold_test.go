package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQuota: a memory size's CPU share as Lambda allots it, one vCPU at
// 1,769 MB.
func TestQuota(t *testing.T) {
	for mb, want := range map[int]int{128: 1447, 1769: 20000, 512: 5788} {
		if got := quotaUs(mb); got != want {
			t.Errorf("quotaUs(%d) = %d µs per %d µs, want %d", mb, got, cfsPeriodUs, want)
		}
	}
}

// TestCost: the billed duration is rounded up to the millisecond.
func TestCost(t *testing.T) {
	// 1.2 ms at 1024 MB bills 2 ms of 1 GB, and the request.
	want := 0.20/1e6 + 0.002*priceGBSecond
	if got := cost(1024, 1.2); got != want {
		t.Errorf("cost(1024 MB, 1.2 ms) = %g, want %g", got, want)
	}
}

// TestTLSFake: a client that trusts only what SSL_CERT_FILE holds reaches
// the fake over HTTPS, the directory holds the same bundle again, and
// AWS_CA_BUNDLE holds the fake's CA alone.
func TestTLSFake(t *testing.T) {
	if _, err := os.Stat(systemBundle); err != nil {
		t.Skipf("no system root bundle at %s", systemBundle)
	}
	dir := t.TempDir()
	f, err := startTLSFake(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	for _, kv := range f.env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	bundle, err := os.ReadFile(env["SSL_CERT_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	again, err := os.ReadFile(filepath.Join(env["SSL_CERT_DIR"], "ca-bundle.crt"))
	if err != nil || string(again) != string(bundle) {
		t.Errorf("SSL_CERT_DIR does not hold the bundle again (%v)", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(bundle) {
		t.Fatal("SSL_CERT_FILE holds no certificates")
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(env["AWS_ENDPOINT_URL_SECRETS_MANAGER"])
	if err != nil {
		t.Fatalf("a client trusting SSL_CERT_FILE: %v", err)
	}
	resp.Body.Close()
	if n, c := f.nodelay.Load(), f.conns.Load(); c == 0 || n != c {
		t.Errorf("TCP_NODELAY on %d of %d connections", n, c)
	}
	ca, err := os.ReadFile(env["AWS_CA_BUNDLE"])
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(ca), "BEGIN CERTIFICATE"); n != 1 {
		t.Errorf("AWS_CA_BUNDLE holds %d certificates, want the fake's CA alone", n)
	}
	// Without the fake's CA, the system roots alone do not trust it.
	system, _ := x509.SystemCertPool()
	if system != nil {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: system}}}
		if resp, err := c.Get(env["AWS_ENDPOINT_URL_SECRETS_MANAGER"]); err == nil {
			resp.Body.Close()
			t.Error("the system roots alone trust the fake: its CA is not its own")
		}
	}
}
