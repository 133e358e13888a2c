// The Secrets Manager fake as AWS serves it: over HTTPS, with a chain the
// function must verify against its roots, laid out as provided.al2023 lays
// them out.

package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

// systemBundle is the system's root bundle, which provided.al2023 has at
// /etc/pki/tls/certs/ca-bundle.crt and again in /etc/pki/tls/certs.
const systemBundle = "/etc/ssl/certs/ca-certificates.crt"

// tlsFake is the fake on HTTPS and the files that make the function trust
// it.
type tlsFake struct {
	srv      *httptest.Server
	caFile   string // the fake's CA alone, for AWS_CA_BUNDLE
	certFile string // the system bundle and the CA, for SSL_CERT_FILE
	certDir  string // a directory holding certFile's bundle again, for SSL_CERT_DIR
	roots    int    // certificates in the bundle
	nodelay  atomic.Int32
	conns    atomic.Int32
}

// startTLSFake serves h on loopback HTTPS with a new CA and a leaf for
// 127.0.0.1 and localhost, both RSA 2048 as the chains of AWS endpoints
// are, and writes the root files into dir.
func startTLSFake(h http.Handler, dir string) (*tlsFake, error) {
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "userhash bench CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	leafKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}

	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	system, err := os.ReadFile(systemBundle)
	if err != nil {
		return nil, fmt.Errorf("the system root bundle: %w", err)
	}
	bundle := append(append(bytes.TrimRight(system, "\n"), '\n'), caPEM...)
	f := &tlsFake{
		caFile:   filepath.Join(dir, "fake-ca.pem"),
		certFile: filepath.Join(dir, "ca-bundle.crt"),
		certDir:  filepath.Join(dir, "certs"),
		roots:    bytes.Count(bundle, []byte("-----BEGIN CERTIFICATE-----")),
	}
	if err := os.MkdirAll(f.certDir, 0o755); err != nil {
		return nil, err
	}
	for path, b := range map[string][]byte{f.caFile: caPEM, f.certFile: bundle, filepath.Join(f.certDir, "ca-bundle.crt"): bundle} {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return nil, err
		}
	}

	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}}}
	// Each connection is served, handshake included, on its own goroutine,
	// so handshakes run in parallel as at AWS. Go sets TCP_NODELAY on every
	// accepted connection; this checks it, since without it each answer
	// would wait on the client's delayed ACK.
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s != http.StateNew {
			return
		}
		f.conns.Add(1)
		if tc, ok := c.(*tls.Conn).NetConn().(*net.TCPConn); ok && nodelay(tc) {
			f.nodelay.Add(1)
		}
	}
	// A bootstrap killed at the end of its cold start leaves idle
	// connections (and, now and then, a handshake) cut off: no news.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	f.srv = srv
	return f, nil
}

// nodelay reports whether TCP_NODELAY is set on c.
func nodelay(c *net.TCPConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	on := false
	_ = raw.Control(func(fd uintptr) {
		v, err := syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_NODELAY)
		on = err == nil && v != 0
	})
	return on
}

// env is what points a function at the fake and makes it trust the fake's
// CA: in the system roots as provided.al2023 lays them out (the bundle
// file, and the same bundle again in the directory Go's crypto/x509 also
// reads), and alone in AWS_CA_BUNDLE, the SDK's own variable.
func (f *tlsFake) env() []string {
	return []string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + f.srv.URL,
		"SSL_CERT_FILE=" + f.certFile,
		"SSL_CERT_DIR=" + f.certDir,
		"AWS_CA_BUNDLE=" + f.caFile,
	}
}

func (f *tlsFake) Close() { f.srv.Close() }
