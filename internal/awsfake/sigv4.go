// A recorder of who signed each AWS request: the access key, the region and
// service of the signature's scope, the session token, and whether the
// signature holds for the secret key the test says goes with the access
// key. Tests use it to prove which credentials, region and endpoint a
// client was configured with.

package awsfake

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SignedCall is what one request said about its sender.
type SignedCall struct {
	Target       string // X-Amz-Target, e.g. "secretsmanager.GetSecretValue"
	AccessKeyID  string
	Region       string // of the signature's credential scope
	Service      string // of the signature's credential scope, e.g. "secretsmanager"
	SessionToken string // X-Amz-Security-Token
	// SignatureValid says the SigV4 signature holds for the secret key the
	// recorder was given for AccessKeyID.
	SignatureValid bool
}

// Recorder records each request's SignedCall, then passes it to Next.
//
//	rec := &awsfake.Recorder{Keys: map[string]string{"AKID": "secret"}, Next: sm}
//	url := httptest.NewServer(rec).URL
//	rec.Calls() // who signed what
//
// It is safe for concurrent use.
type Recorder struct {
	Keys map[string]string // secret access key by access key ID
	Next http.Handler

	mu    sync.Mutex
	calls []SignedCall
}

// Calls returns the calls recorded so far.
func (r *Recorder) Calls() []SignedCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]SignedCall(nil), r.calls...)
}

// ServeHTTP records the call and hands it on.
func (r *Recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	call := SignedCall{Target: req.Header.Get("X-Amz-Target"), SessionToken: req.Header.Get("X-Amz-Security-Token")}
	// AWS4-HMAC-SHA256 Credential=AKID/20261125/us-east-1/secretsmanager/aws4_request, SignedHeaders=a;b, Signature=hex
	auth := strings.TrimPrefix(req.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")
	fields := map[string]string{}
	for _, f := range strings.Split(auth, ", ") {
		if k, v, ok := strings.Cut(f, "="); ok {
			fields[k] = v
		}
	}
	if scope := strings.Split(fields["Credential"], "/"); len(scope) == 5 {
		call.AccessKeyID, call.Region, call.Service = scope[0], scope[2], scope[3]
	}
	if secret, ok := r.Keys[call.AccessKeyID]; ok {
		call.SignatureValid = resign(req, body, fields["SignedHeaders"], call, secret) == auth
	}
	r.mu.Lock()
	r.calls = append(r.calls, call)
	r.mu.Unlock()
	r.Next.ServeHTTP(w, req)
}

// resign signs a copy of req, carrying only the headers it signed, with
// secret, and returns the Authorization value without its algorithm.
func resign(req *http.Request, body []byte, signedHeaders string, call SignedCall, secret string) string {
	at, err := time.Parse("20060102T150405Z", req.Header.Get("X-Amz-Date"))
	if err != nil {
		return ""
	}
	cp, err := http.NewRequest(req.Method, "http://"+req.Host+req.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return ""
	}
	for _, h := range strings.Split(signedHeaders, ";") {
		if h != "host" && h != "content-length" {
			cp.Header[http.CanonicalHeaderKey(h)] = req.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: call.AccessKeyID, SecretAccessKey: secret, SessionToken: call.SessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, cp, hex.EncodeToString(sum[:]), call.Service, call.Region, at); err != nil {
		return ""
	}
	return strings.TrimPrefix(cp.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")
}
