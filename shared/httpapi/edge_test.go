// The API behind CloudFront (EdgeWebAclArn): the handler, as main wires it
// with the origin-verify secret read through the real secrets cache from a
// fake Secrets Manager, and password sign-in through the real Cognito
// client against the fake user pool, which records the UserContextData it
// receives.

package httpapi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/internal/logtest"
	"github.com/intercom-identity/userhash/shared/cognito"
	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

const (
	edgeSecretID   = "userhash/edge-origin-verify"
	edgeSecret     = "Zq4vN8rT2wXy6bC1dF5gH9jK3mP7sL0a" // as GenerateSecretString makes it: 32 letters and digits
	edgeClientID   = "edge-app-client"
	edgeClientSec  = "edge-app-client-secret"
	edgeUser       = "alice@example.com"
	edgePassword   = "Correct-Horse-1"
	cloudFrontIP   = "130.176.88.12" // requestContext.http.sourceIp behind CloudFront: CloudFront's
	viewerAddress  = "203.0.113.9:51234"
	viewerIP       = "203.0.113.9"
	forgedViewerIP = "192.0.2.66"
)

// edge is one handler in password mode and what it talks to.
type edge struct {
	h    *httpapi.Handler
	pool *awsfake.Cognito
	sm   *awsfake.SecretsManager
	logs *logtest.Buffer
}

// newEdge builds the handler as main does: the platform secret, the app
// client's secret and, when verify, the origin-verify secret, all through
// one cache.
func newEdge(t *testing.T, verify bool) *edge {
	t.Helper()
	sm := awsfake.NewSecretsManager()
	sm.Put("cognito/app-client", `{"client_secret":"`+edgeClientSec+`"}`)
	sm.Put(edgeSecretID, edgeSecret)
	smClient := secrets.NewClient(awsfake.Config(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(sm.Start(t)) })
	cache := secrets.NewCache(smClient, secrets.WithLogger(slog.New(slog.DiscardHandler)))

	pool := awsfake.NewCognito(edgeClientID, edgeClientSec)
	pool.AddUser(edgeUser, awsfake.CognitoUser{Password: edgePassword, Claims: map[string]any{"sub": "5f0c-sub", "email": edgeUser, "email_verified": true}})
	poolURL := pool.Start(t)
	idp := cognito.NewClient(awsfake.Config(), func(o *cip.Options) { o.BaseEndpoint = aws.String(poolURL) })

	logs := &logtest.Buffer{}
	opts := []httpapi.Option{
		httpapi.WithPasswords(cognito.New(idp, edgeClientID, cognito.WithClientSecret(cache, secrets.Ref{ID: "cognito/app-client", Key: "client_secret"}))),
		httpapi.WithLogger(slog.New(slog.NewJSONHandler(logs, nil))),
	}
	if verify {
		ref := secrets.RefOf(edgeSecretID)
		opts = append(opts, httpapi.WithOriginVerify(func(ctx context.Context) ([]byte, error) { return cache.Get(ctx, ref) }))
	}
	h := httpapi.New(secrets.Static{platform.IOS: []byte("ios-secret")}, []platform.Platform{platform.IOS}, opts...)
	return &edge{h: h, pool: pool, sm: sm, logs: logs}
}

// ask sends a sign-in from sourceIP with the given headers.
func (e *edge) ask(t *testing.T, body string, headers map[string]string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	if body == "" {
		b, _ := json.Marshal(map[string]string{"username": edgeUser, "password": edgePassword, "platform": "ios"})
		body = string(b)
	}
	resp, err := e.h.Handle(context.Background(), events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST " + httpapi.Path, RawPath: httpapi.Path,
		Headers: headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "r-edge",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: httpapi.Path, SourceIP: cloudFrontIP}},
		Body: body,
	})
	if err != nil {
		t.Fatalf("Handle returned an error: %v", err)
	}
	return resp
}

func problemCode(t *testing.T, resp events.APIGatewayV2HTTPResponse) string {
	t.Helper()
	var p httpapi.Problem
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatalf("not a problem body: %s", resp.Body)
	}
	if resp.Headers["Content-Type"] != "application/problem+json" || p.Status != resp.StatusCode {
		t.Errorf("problem %s with Content-Type %q, status %d", resp.Body, resp.Headers["Content-Type"], resp.StatusCode)
	}
	return string(p.Code)
}

// signedInFrom returns the IP of the last sign-in's UserContextData, and
// how many sign-ins reached the pool.
func (e *edge) signedInFrom(t *testing.T) (string, int) {
	t.Helper()
	calls := e.pool.Calls()
	if len(calls) == 0 {
		return "", 0
	}
	return calls[len(calls)-1].IPAddress, len(calls)
}

func TestEdgeRefusesRequestsThatWentAroundCloudFront(t *testing.T) {
	e := newEdge(t, true)
	wrong := edgeSecret[:len(edgeSecret)-1] + "b"
	tests := []struct {
		name    string
		body    string
		headers map[string]string
	}{
		{"no header", "", map[string]string{"cloudfront-viewer-address": viewerAddress}},
		{"empty header", "", map[string]string{"x-origin-verify": ""}},
		{"wrong header, same length", "", map[string]string{"x-origin-verify": wrong}},
		{"the secret with more after it", "", map[string]string{"x-origin-verify": edgeSecret + "x"}},
		{"a prefix of the secret", "", map[string]string{"x-origin-verify": edgeSecret[:16]}},
		// Refused before the body is read: a bad body is not 400 here.
		{"no header, a body that is not JSON", "{not json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.ask(t, tt.body, tt.headers)
			if resp.StatusCode != 403 || problemCode(t, resp) != "forbidden_origin" {
				t.Fatalf("got %d %s, want 403 forbidden_origin", resp.StatusCode, resp.Body)
			}
		})
	}
	if _, n := e.signedInFrom(t); n != 0 {
		t.Errorf("%d sign-ins reached Cognito from requests that went around CloudFront, want none", n)
	}
	for _, leak := range []string{edgeSecret, wrong, edgeSecret[:16], viewerIP} {
		if strings.Contains(e.logs.String(), leak) {
			t.Errorf("the log holds %q:\n%s", leak, e.logs.String())
		}
	}
	for _, line := range e.logs.Lines(t) {
		if line["code"] != "forbidden_origin" || line["status"] != float64(403) {
			t.Errorf("log line %v, want code forbidden_origin, status 403", line)
		}
	}
}

func TestEdgeHandsCognitoTheViewersAddress(t *testing.T) {
	e := newEdge(t, true)
	tests := []struct {
		name    string
		address string // CloudFront-Viewer-Address; "" for none
		wantIP  string
	}{
		{"IPv4", viewerAddress, viewerIP},
		{"IPv6, as CloudFront writes it", "2001:db8:85a3::8a2e:370:7334:46532", "2001:db8:85a3::8a2e:370:7334"},
		{"IPv6, bracketed", "[2001:db8::7]:443", "2001:db8::7"},
		{"IPv4-mapped IPv6", "::ffff:198.51.100.4:443", "198.51.100.4"},
		// Not CloudFront's address either: no address rather than a wrong one.
		{"no header", "", ""},
		{"no port", "203.0.113.9", ""},
		{"not an address", "example.com:443", ""},
		{"a list", "203.0.113.9:1, 192.0.2.66:2", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := map[string]string{"x-origin-verify": edgeSecret}
			if tt.address != "" {
				headers["cloudfront-viewer-address"] = tt.address
			}
			resp := e.ask(t, "", headers)
			if resp.StatusCode != 200 {
				t.Fatalf("got %d %s, want 200", resp.StatusCode, resp.Body)
			}
			ip, n := e.signedInFrom(t)
			if n != i+1 {
				t.Fatalf("%d sign-ins reached Cognito, want %d", n, i+1)
			}
			if ip != tt.wantIP {
				t.Errorf("UserContextData IP = %q, want %q (never CloudFront's %s)", ip, tt.wantIP, cloudFrontIP)
			}
		})
	}
	// The header name in any case: an event written by another tool.
	resp := e.ask(t, "", map[string]string{"X-Origin-Verify": edgeSecret, "CloudFront-Viewer-Address": viewerAddress})
	if ip, _ := e.signedInFrom(t); resp.StatusCode != 200 || ip != viewerIP {
		t.Errorf("with headers in mixed case: %d %s, IP %q; want 200 and %s", resp.StatusCode, resp.Body, ip, viewerIP)
	}
	if strings.Contains(e.logs.String(), edgeSecret) || strings.Contains(e.logs.String(), viewerIP) {
		t.Errorf("the log holds the origin secret or the viewer's address:\n%s", e.logs.String())
	}
}

// Without the edge both headers are anyone's to send, and mean nothing.
func TestNoEdgeIgnoresTheEdgesHeaders(t *testing.T) {
	e := newEdge(t, false)
	for _, headers := range []map[string]string{
		nil,
		{"x-origin-verify": "anything", "cloudfront-viewer-address": forgedViewerIP + ":443"},
		{"x-origin-verify": edgeSecret, "cloudfront-viewer-address": forgedViewerIP + ":443"},
	} {
		resp := e.ask(t, "", headers)
		if resp.StatusCode != 200 {
			t.Fatalf("headers %v: got %d %s, want 200", headers, resp.StatusCode, resp.Body)
		}
		if ip, _ := e.signedInFrom(t); ip != cloudFrontIP {
			t.Errorf("headers %v: UserContextData IP = %q, want the sourceIp %s", headers, ip, cloudFrontIP)
		}
	}
	if n := e.sm.Calls(edgeSecretID); n != 0 {
		t.Errorf("the origin-verify secret was fetched %d times without the edge", n)
	}
}

// A secret that cannot be read fails closed: 503, as a platform secret's,
// and nothing reaches Cognito.
func TestEdgeSecretUnavailable(t *testing.T) {
	e := newEdge(t, true)
	e.sm.Fail(edgeSecretID, awsfake.SMAccessDenied)
	for _, headers := range []map[string]string{nil, {"x-origin-verify": edgeSecret}} {
		resp := e.ask(t, "", headers)
		if resp.StatusCode != 503 || problemCode(t, resp) != "secret_unavailable" {
			t.Fatalf("got %d %s, want 503 secret_unavailable", resp.StatusCode, resp.Body)
		}
		if resp.Headers["Retry-After"] == "" {
			t.Error("503 without Retry-After")
		}
	}
	if _, n := e.signedInFrom(t); n != 0 {
		t.Errorf("%d sign-ins reached Cognito while the origin secret was unreadable", n)
	}
	if strings.Contains(e.logs.String(), edgeSecret) {
		t.Errorf("the log holds the origin secret:\n%s", e.logs.String())
	}
}
