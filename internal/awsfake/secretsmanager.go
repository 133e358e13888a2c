// A Secrets Manager fake: in-memory secrets served over the awsJson1.1
// protocol to the real aws-sdk-go-v2 client, with rotation, call counting and
// injectable failures, so that the secret cache can be tested for what it
// costs and how it survives an outage.

package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// The failures SecretsManager can be told to answer with, as AWS sends them.
var (
	SMThrottling           = &Error{Status: http.StatusBadRequest, Type: "ThrottlingException", Message: "Rate exceeded"}
	SMInternalServiceError = &Error{Status: http.StatusInternalServerError, Type: "InternalServiceError", Message: "An internal error occurred"}
	SMServiceUnavailable   = &Error{Status: http.StatusServiceUnavailable, Type: "ServiceUnavailable", Message: "Service is unavailable"}
	SMResourceNotFound     = &Error{Status: http.StatusBadRequest, Type: "ResourceNotFoundException", Message: "Secrets Manager can't find the specified secret."}
	SMDecryptionFailure    = &Error{Status: http.StatusBadRequest, Type: "DecryptionFailure", Message: "Secrets Manager can't decrypt the protected secret text using the provided KMS key."}
	SMAccessDenied         = &Error{Status: http.StatusBadRequest, Type: "AccessDeniedException", Message: "User is not authorized to perform: secretsmanager:GetSecretValue"}
)

// SecretsManager is an in-memory Secrets Manager that answers
// GetSecretValue and BatchGetSecretValue and nothing else; any other
// operation is counted and refused, so a test can prove that only those are
// called. A secret fetched by BatchGetSecretValue counts as a GetSecretValue
// call of its ID, as CloudTrail logs it.
//
//	sm := awsfake.NewSecretsManager()
//	sm.Put("prod/intercom", `{"ios":"s1"}`)
//	url := sm.Start(t) // or t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", url)
//	sm.Fail("prod/intercom", awsfake.SMThrottling)
//	open := sm.Hold("prod/intercom") // calls wait until open()
//	sm.Calls("prod/intercom") // GetSecretValue calls for that SecretId, batched ones included
//	sm.BatchCalls()           // BatchGetSecretValue calls
//
// It is safe for concurrent use.
type SecretsManager struct {
	mu           sync.Mutex
	secrets      map[string]*fakeSecret // by name
	calls        map[string]int         // GetSecretValue calls by the SecretId sent
	others       map[string]int         // other operations, by X-Amz-Target
	batches      int                    // BatchGetSecretValue calls
	batchFailure *Error                 // FailBatch's
	failures     map[string]*Error      // by name; "" for every secret
	delays       map[string]time.Duration
	hung         map[string]bool
	gates        map[string]chan struct{} // by name; "" for every secret; closed to open
	release      chan struct{}            // closed to free hung calls when the server stops
	once         sync.Once
}

type fakeSecret struct {
	name    string
	arn     string
	str     *string
	bin     []byte
	version int
	created time.Time
}

// NewSecretsManager returns an empty fake.
func NewSecretsManager() *SecretsManager {
	return &SecretsManager{
		secrets:  map[string]*fakeSecret{},
		calls:    map[string]int{},
		others:   map[string]int{},
		failures: map[string]*Error{},
		delays:   map[string]time.Duration{},
		hung:     map[string]bool{},
		gates:    map[string]chan struct{}{},
		release:  make(chan struct{}),
	}
}

// Start serves the fake on a loopback httptest server that stops when the
// test ends, and returns its URL, for the client's BaseEndpoint or
// AWS_ENDPOINT_URL_SECRETS_MANAGER.
func (f *SecretsManager) Start(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(f)
	// Cleanups run last-in first-out: hung calls are freed before Close
	// waits for them.
	t.Cleanup(srv.Close)
	t.Cleanup(f.Release)
	return srv.URL
}

// Put creates the secret name with a SecretString, or, if it exists, makes
// value its new AWSCURRENT version, as PutSecretValue does.
func (f *SecretsManager) Put(name, value string) {
	f.put(name, &value, nil)
}

// PutBinary stores a binary-only version (SecretBinary, no SecretString).
func (f *SecretsManager) PutBinary(name string, value []byte) {
	f.put(name, nil, append([]byte(nil), value...))
}

func (f *SecretsManager) put(name string, str *string, bin []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.secrets[name]
	if !ok {
		s = &fakeSecret{name: name, arn: f.arnLocked(name), created: time.Now()}
		f.secrets[name] = s
	}
	s.str, s.bin = str, bin
	s.version++
}

// Delete removes the secret: GetSecretValue then answers
// ResourceNotFoundException.
func (f *SecretsManager) Delete(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.secrets, name)
}

// ARN returns the ARN the fake gives the secret name; GetSecretValue takes
// it as well as the name.
func (f *SecretsManager) ARN(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.arnLocked(name)
}

func (f *SecretsManager) arnLocked(name string) string {
	if s, ok := f.secrets[name]; ok {
		return s.arn
	}
	// Real ARNs end in '-' and six random characters; a fixed suffix keeps
	// the fake deterministic.
	return "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + name + "-AbCdEf"
}

// Fail makes GetSecretValue of name answer e until Fail(name, nil). The name
// "" applies e to every secret. Inside a BatchGetSecretValue, name's failure
// is its entry in Errors, and "" fails the whole call.
func (f *SecretsManager) Fail(name string, e *Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e == nil {
		delete(f.failures, name)
		return
	}
	f.failures[name] = e
}

// Delay makes GetSecretValue of name ("" for every secret) wait d before it
// answers; 0 removes the delay.
func (f *SecretsManager) Delay(name string, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delays[name] = d
}

// Hang makes GetSecretValue of name ("" for every secret) never answer: the
// call returns only when the client gives up or the server stops.
func (f *SecretsManager) Hang(name string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hung[name] = on
}

// Hold makes GetSecretValue of name ("" for every secret) wait, once it
// has arrived and been counted, until open is called; then it answers as
// usual. Unlike Hang, the held calls succeed: a test can end a call when it
// chooses, after what it means to check happened while the call was in
// flight. Calls made after open are not held.
func (f *SecretsManager) Hold(name string) (open func()) {
	gate := make(chan struct{})
	f.mu.Lock()
	f.gates[name] = gate
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			if f.gates[name] == gate {
				delete(f.gates, name)
			}
			f.mu.Unlock()
			close(gate)
		})
	}
}

// FailBatch makes every BatchGetSecretValue call answer e, as AWS does
// when the role may not call it, until FailBatch(nil); GetSecretValue is
// not affected.
func (f *SecretsManager) FailBatch(e *Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batchFailure = e
}

// BatchCalls returns the number of BatchGetSecretValue calls, refused ones
// included.
func (f *SecretsManager) BatchCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.batches
}

// Release frees every hung call for good; Start's cleanup calls it.
func (f *SecretsManager) Release() {
	f.once.Do(func() { close(f.release) })
}

// Calls returns how many GetSecretValue calls named secretID (as sent: name
// or ARN), failed ones and those inside a BatchGetSecretValue included.
func (f *SecretsManager) Calls(secretID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[secretID]
}

// TotalCalls returns the number of GetSecretValue calls for any secret.
func (f *SecretsManager) TotalCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

// OtherCalls returns the calls of operations other than GetSecretValue and
// BatchGetSecretValue, by X-Amz-Target.
func (f *SecretsManager) OtherCalls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := make(map[string]int, len(f.others))
	for k, v := range f.others {
		m[k] = v
	}
	return m
}

// ServeHTTP speaks the awsJson1.1 protocol.
func (f *SecretsManager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	Handler(func(target string, body []byte) (any, *Error) {
		return f.op(r, target, body)
	}).ServeHTTP(w, r)
}

func (f *SecretsManager) op(r *http.Request, target string, body []byte) (any, *Error) {
	switch target {
	case "secretsmanager.GetSecretValue":
		return f.getSecretValue(r, body)
	case "secretsmanager.BatchGetSecretValue":
		return f.batchGetSecretValue(r, body)
	}
	f.mu.Lock()
	f.others[target]++
	f.mu.Unlock()
	return nil, &Error{Status: http.StatusBadRequest, Type: "UnknownOperationException", Message: "the fake serves GetSecretValue and BatchGetSecretValue only"}
}

func (f *SecretsManager) getSecretValue(r *http.Request, body []byte) (any, *Error) {
	var in struct {
		SecretID string `json:"SecretId"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.SecretID == "" {
		return nil, &Error{Status: http.StatusBadRequest, Type: "InvalidParameterException", Message: "SecretId is required"}
	}

	f.mu.Lock()
	f.calls[in.SecretID]++
	name := f.nameLocked(in.SecretID)
	f.mu.Unlock()

	if e := f.wait(r, name); e != nil {
		return nil, e
	}
	// Read the secret after the delay, so that a rotation made while a call
	// is in flight is what it returns, as in AWS.
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.failures[""]; e != nil {
		return nil, e
	}
	return f.valueLocked(name)
}

// batchGetSecretValue answers BatchGetSecretValue with a SecretIdList (up
// to 20 IDs, as AWS allows; Filters are not served): each secret is counted
// as a GetSecretValue call of its ID, as CloudTrail logs it, waits as its
// own call would, and fails alone, in Errors, with the failure Fail gave
// it. Fail("", e) and FailBatch(e) fail the whole call.
func (f *SecretsManager) batchGetSecretValue(r *http.Request, body []byte) (any, *Error) {
	var in struct {
		SecretIDList []string `json:"SecretIdList"`
		Filters      []any    `json:"Filters"`
	}
	if err := json.Unmarshal(body, &in); err != nil || len(in.SecretIDList) == 0 || len(in.Filters) > 0 {
		return nil, &Error{Status: http.StatusBadRequest, Type: "InvalidParameterException", Message: "the fake serves SecretIdList only"}
	}
	if len(in.SecretIDList) > 20 {
		return nil, &Error{Status: http.StatusBadRequest, Type: "InvalidParameterException", Message: "SecretIdList holds at most 20 IDs"}
	}

	f.mu.Lock()
	f.batches++
	if e := f.batchFailure; e != nil {
		f.mu.Unlock()
		return nil, e
	}
	names := make([]string, len(in.SecretIDList))
	for i, id := range in.SecretIDList {
		f.calls[id]++
		names[i] = f.nameLocked(id)
	}
	f.mu.Unlock()

	if e := f.wait(r, names...); e != nil {
		return nil, e
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if e := f.failures[""]; e != nil {
		return nil, e
	}
	values, errs := []any{}, []any{}
	for i, name := range names {
		v, e := f.valueLocked(name)
		if e != nil {
			errs = append(errs, map[string]string{"SecretId": in.SecretIDList[i], "ErrorCode": e.Type, "Message": e.Message})
			continue
		}
		values = append(values, v)
	}
	return map[string]any{"SecretValues": values, "Errors": errs}, nil
}

// wait holds a call of the named secrets as Hold, Hang and Delay say; a
// non-nil error is the answer of a call cut short.
func (f *SecretsManager) wait(r *http.Request, names ...string) *Error {
	f.mu.Lock()
	var (
		delay time.Duration
		hang  bool
		gates []chan struct{}
	)
	for _, name := range names {
		delay = max(delay, f.delays[name], f.delays[""])
		hang = hang || f.hung[name] || f.hung[""]
		if gate := f.gates[name]; gate != nil {
			gates = append(gates, gate)
		} else if gate := f.gates[""]; gate != nil {
			gates = append(gates, gate)
		}
	}
	f.mu.Unlock()

	for _, gate := range gates {
		select {
		case <-gate:
		case <-r.Context().Done():
			return SMServiceUnavailable
		case <-f.release:
		}
	}
	if hang {
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
		return SMServiceUnavailable
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return SMServiceUnavailable
		case <-f.release:
		}
	}
	return nil
}

// valueLocked is the AWSCURRENT version of name as GetSecretValue answers
// it, or the failure Fail gave name.
func (f *SecretsManager) valueLocked(name string) (map[string]any, *Error) {
	if e := f.failures[name]; e != nil {
		return nil, e
	}
	s, ok := f.secrets[name]
	if !ok {
		return nil, SMResourceNotFound
	}
	out := map[string]any{
		"ARN":           s.arn,
		"Name":          s.name,
		"VersionId":     fmt.Sprintf("00000000-0000-0000-0000-%012d", s.version),
		"VersionStages": []string{"AWSCURRENT"},
		"CreatedDate":   float64(s.created.UnixMilli()) / 1000,
	}
	if s.str != nil {
		out["SecretString"] = *s.str
	}
	if s.bin != nil {
		out["SecretBinary"] = s.bin // encoding/json writes []byte as base64, as AWS does
	}
	return out, nil
}

// nameLocked maps a SecretId (name, ARN, or partial ARN: the ARN without
// its random suffix, as AWS takes it) to the secret's name.
func (f *SecretsManager) nameLocked(id string) string {
	if !strings.HasPrefix(id, "arn:") {
		return id
	}
	for name, s := range f.secrets {
		if s.arn == id || s.arn == id+"-AbCdEf" {
			return name
		}
	}
	return id
}
