// Package awsfake holds test doubles that speak AWS's own wire protocols, so
// that tests drive the real aws-sdk-go-v2 clients instead of mocked
// interfaces. It is imported by tests only.
//
//	srv := httptest.NewServer(awsfake.Handler(func(target string, body []byte) (any, *awsfake.Error) {
//		...
//	}))
//	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", srv.URL)
//
// StartMoto runs moto_server, the AWS emulator, on loopback for
// integration tests.
package awsfake

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Error is an AWS JSON protocol error: the SDK reads its type from __type
// and turns it into the service's typed error.
type Error struct {
	Status  int
	Type    string // e.g. "ResourceNotFoundException"
	Message string
}

// Op answers one awsJson1.1 call: target is the X-Amz-Target header (for
// example "secretsmanager.GetSecretValue") and body the request document.
// It returns the response document or an error.
type Op func(target string, body []byte) (any, *Error)

// Handler serves op over the awsJson1.1 protocol: POST /, the operation in
// X-Amz-Target, JSON in and out, errors as {"__type", "message"}.
func Handler(op Op) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || r.Method != http.MethodPost {
			WriteError(w, &Error{Status: http.StatusBadRequest, Type: "SerializationException", Message: "bad request"})
			return
		}
		out, e := op(r.Header.Get("X-Amz-Target"), body)
		if e != nil {
			WriteError(w, e)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(out)
	})
}

// WriteError writes e as the awsJson1.1 protocol does.
func WriteError(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Type, "message": e.Message})
}

// Proxy forwards awsJson1.1 calls to target (a moto_server, say), showing
// each to inspect first: inspect sees the operation (X-Amz-Target) and the
// request document, and may answer the call itself by returning an error.
// Tests use it to count calls, simulate an outage, or check what moto does
// not.
func Proxy(target string, inspect func(op string, body []byte) *Error) (http.Handler, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	next := httputil.NewSingleHostReverseProxy(u)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			WriteError(w, &Error{Status: http.StatusBadRequest, Type: "SerializationException", Message: "unreadable body"})
			return
		}
		if e := inspect(r.Header.Get("X-Amz-Target"), body); e != nil {
			WriteError(w, e)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	}), nil
}

// Config is the aws.Config the tests give the real SDK clients they point
// at a fake or at moto_server (with the client's BaseEndpoint): a region
// and dummy static credentials, so that requests are signed as in AWS and
// nothing of the machine's own AWS setup is read.
func Config() aws.Config {
	return aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	}
}

// StartProxy serves Proxy(target, inspect) on a loopback test server that
// stops when the test ends, and returns its URL.
func StartProxy(t testing.TB, target string, inspect func(op string, body []byte) *Error) string {
	t.Helper()
	h, err := Proxy(target, inspect)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
