// The warm path: the whole handler on a secret cache hit, decoded event in,
// response out, JWT included, wired as in production (JSON request log and
// EMF metrics, here written to io.Discard), beside a bare HMAC-SHA256 with
// a precomputed key.

package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/metrics"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// warm is a handler whose secrets are all cached, and the event it serves.
type warm struct {
	handler *httpapi.Handler
	event   events.APIGatewayV2HTTPRequest
	close   func()
}

// newWarm builds the handler as main does in jwt mode: the real secret
// cache over the real Secrets Manager client, pointed at the fake, with
// every secret prefetched so that each request is a cache hit.
func newWarm(repoRoot string) (*warm, error) {
	sm := awsfake.NewSecretsManager()
	refs := map[platform.Platform]secrets.Ref{}
	for _, p := range platform.All() {
		sm.Put("intercom/"+p.String(), "bench-"+p.String()+"-secret")
		refs[p] = secrets.Ref{ID: "intercom/" + p.String()}
	}
	srv := httptest.NewServer(sm)
	client := secrets.NewClient(awsfake.Config(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	rec := metrics.New(io.Discard, metrics.WithFunctionName("UserHashFunction"))
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cache := secrets.NewCache(client, secrets.WithLogger(logger), secrets.WithObserver(rec.SecretEvent))
	src := &secrets.Platforms{Cache: cache, Refs: refs}
	src.Prefetch(context.Background())
	if sm.TotalCalls() != len(refs) {
		srv.Close()
		return nil, fmt.Errorf("the prefetch made %d calls, want %d", sm.TotalCalls(), len(refs))
	}
	h := httpapi.New(src, platform.All(), httpapi.WithLogger(logger), httpapi.WithObserver(rec.Request))

	raw, err := os.ReadFile(filepath.Join(repoRoot, "events", "ios.json"))
	if err != nil {
		srv.Close()
		return nil, err
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		srv.Close()
		return nil, err
	}
	w := &warm{handler: h, event: ev, close: srv.Close}
	resp, _ := w.serve()
	var body httpapi.Response
	if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &body) != nil || body.UserHash == "" || body.UserJWT == "" {
		srv.Close()
		return nil, fmt.Errorf("events/ios.json got %d %s, want 200 with a hash and a JWT", resp.StatusCode, resp.Body)
	}
	if n := sm.TotalCalls(); n != len(refs) {
		srv.Close()
		return nil, fmt.Errorf("a warm request called Secrets Manager (%d calls)", n)
	}
	return w, nil
}

func (w *warm) serve() (events.APIGatewayV2HTTPResponse, error) {
	return w.handler.Handle(context.Background(), w.event)
}

// benchHandler is the whole handler on a cache hit.
func (w *warm) benchHandler(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if resp, _ := w.serve(); resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// benchHMAC is HMAC-SHA256 of a user_id with a precomputed key: the least
// any implementation must do.
func benchHMAC(b *testing.B) {
	var m hash.Hash = hmac.New(sha256.New, []byte("bench-ios-secret"))
	msg := []byte("6c0f8e1e-5d7a-4b8e-9f3c-2a1b0c9d8e7f")
	sum := make([]byte, 0, sha256.Size)
	b.ReportAllocs()
	for b.Loop() {
		m.Reset()
		m.Write(msg)
		sum = m.Sum(sum[:0])
	}
}
