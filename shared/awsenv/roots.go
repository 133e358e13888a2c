// The roots the Lambda build's AWS clients trust: the five that AWS
// endpoints chain to, embedded, instead of the system bundle. Go parses
// the system bundle on the first TLS handshake (on provided.al2023, ~145
// roots, twice: the bundle file, then the same bundle in /etc/pki/tls/certs),
// which at a 128 MB function's CPU share is most of the cold start's TLS
// cost. It is also a narrower trust: a certificate misissued by any other
// CA in the bundle cannot impersonate Secrets Manager or Cognito.

package awsenv

import (
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// awsRootsPEM holds Amazon Root CA 1 to 4 and Starfield Services Root
// Certificate Authority - G2, as Amazon Trust Services publishes them; the
// file lists each one's fingerprints.
//
//go:embed aws-roots.pem
var awsRootsPEM []byte

// awsRoots is the pool of the embedded roots, parsed once per process
// (five certificates: tens of microseconds).
var awsRoots = sync.OnceValue(func() *x509.CertPool {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(awsRootsPEM) {
		panic("awsenv: the embedded AWS roots do not parse") // a build defect, caught by the tests
	}
	return pool
})

// rootsFrom returns the roots the AWS clients trust: the PEM file bundle
// (AWS_CA_BUNDLE) when it is set, else the embedded AWS roots.
func rootsFrom(bundle string) (*x509.CertPool, error) {
	if bundle == "" {
		return awsRoots(), nil
	}
	b, err := os.ReadFile(bundle)
	if err != nil {
		return nil, fmt.Errorf("AWS_CA_BUNDLE: cannot read the CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, errors.New("AWS_CA_BUNDLE: " + bundle + " holds no PEM certificate")
	}
	return pool, nil
}

// httpClient is the SDK's own default HTTP client (its timeouts,
// keep-alive and TLS 1.2 floor) trusting roots only.
func httpClient(roots *x509.CertPool) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		tr.TLSClientConfig.RootCAs = roots
	})
}
