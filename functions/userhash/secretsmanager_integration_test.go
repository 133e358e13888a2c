// The secret cache end to end (issue #3): the built command's local server
// reading real Secrets Manager semantics from moto_server, through a proxy
// that counts the function's GetSecretValue calls and can play an outage.
// These run in real time (the command is a separate process), with the
// smallest TTL the configuration allows.

package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"golang.org/x/crypto/bcrypt"

	"github.com/intercom-identity/userhash/internal/awsfake"
)

// smTTL is SECRET_CACHE_TTL for these tests; the cache adds up to 10%.
const smTTL = 2 * time.Second

// The secrets in moto. Each must differ, so that a hash made with the wrong
// platform's secret is caught.
const (
	smIOSv1   = "sm-ios-secret-v1"
	smIOSv2   = "sm-ios-secret-v2-rotated"
	smAndroid = "sm-android-secret"
	smWeb     = "sm-web-secret"
)

// smUser is the one user these tests sign in; a cheap bcrypt cost keeps
// hundreds of requests quick.
const (
	smUsername = "carol"
	smPassword = "carol-password"
	smUserID   = "u-carol-2001"
)

// smProxy stands between the function and moto, as a Secrets Manager
// endpoint that is not ours: it counts the function's calls by operation
// and SecretId (a secret inside a BatchGetSecretValue as a GetSecretValue
// of its ID, as CloudTrail logs it), and while down answers every call 503.
type smProxy struct {
	mu      sync.Mutex
	calls   map[string]int // GetSecretValue by SecretId
	batches int            // BatchGetSecretValue calls
	others  map[string]int // any other operation, by X-Amz-Target
	down    bool
}

func startSMProxy(t *testing.T, motoURL string) (*smProxy, string) {
	t.Helper()
	p := &smProxy{calls: map[string]int{}, others: map[string]int{}}
	return p, awsfake.StartProxy(t, motoURL, p.inspect)
}

func (p *smProxy) inspect(op string, body []byte) *awsfake.Error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch op {
	case "secretsmanager.GetSecretValue":
		var in struct{ SecretId string }
		_ = json.Unmarshal(body, &in)
		p.calls[in.SecretId]++
	case "secretsmanager.BatchGetSecretValue":
		var in struct{ SecretIdList []string }
		_ = json.Unmarshal(body, &in)
		p.batches++
		for _, id := range in.SecretIdList {
			p.calls[id]++
		}
	default:
		p.others[op]++
	}
	if p.down {
		return awsfake.SMServiceUnavailable
	}
	return nil
}

func (p *smProxy) Calls(secretID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[secretID]
}

func (p *smProxy) Batches() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.batches
}

func (p *smProxy) Others() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return copyCounts(p.others)
}

func (p *smProxy) SetDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
}

func copyCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// smSetup starts moto, creates secrets in it, and returns a client for
// moto and the proxy in front of it.
func smSetup(t *testing.T, secrets map[string]string) (*secretsmanager.Client, *smProxy, string) {
	t.Helper()
	motoURL := awsfake.StartMoto(t)
	sm := secretsmanager.NewFromConfig(awsfake.Config(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(motoURL) })
	for name, value := range secrets {
		if _, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}); err != nil {
			t.Fatalf("CreateSecret %s: %v", name, err)
		}
	}
	proxy, proxyURL := startSMProxy(t, motoURL)
	return sm, proxy, proxyURL
}

// smEnv is the environment of a local server in password mode that reads
// its secrets from Secrets Manager at endpoint.
func smEnv(t *testing.T, endpoint string, ids map[string]string) map[string]string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(smPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users, _ := json.Marshal([]map[string]string{{
		"username": smUsername, "password_bcrypt": string(hash), "user_id": smUserID, "email": "carol@example.com",
	}})
	usersFile := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(usersFile, users, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"AUTH_MODE":                        "password",
		"USERS_FILE":                       usersFile,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
		"AWS_REGION":                       "us-east-1",
		"AWS_ACCESS_KEY_ID":                "testing",
		"AWS_SECRET_ACCESS_KEY":            "testing",
		"AWS_EC2_METADATA_DISABLED":        "true",
		"SECRET_CACHE_TTL":                 smTTL.String(),
		"SECRET_MAX_STALE":                 "1h",
	}
	for k, v := range ids {
		env[k] = v
	}
	return env
}

// smAsk signs carol in on platform and returns the status, headers and
// body.
func smAsk(t testing.TB, s *Server, platform string) (int, http.Header, []byte) {
	t.Helper()
	return s.Post(t, fmt.Sprintf(`{"username": %q, "password": %q, "platform": %q}`, smUsername, smPassword, platform))
}

// smHash returns the user_hash of a 200 answer, or fails the test.
func smHash(t testing.TB, status int, body []byte) string {
	t.Helper()
	if status != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", status, body)
	}
	var got success
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return got.UserHash
}

// maxCalls is the most GetSecretValue calls one secret may cost over
// elapsed when calls are at least interval apart.
func maxCalls(elapsed, interval time.Duration) int {
	return 1 + int(elapsed/interval)
}

// TestSecretsManagerLifecycle is the "done when": each platform
// served with its own secret, at most one call per secret per TTL under
// hundreds of concurrent requests, a rotation picked up after the TTL, and
// service through an outage of the endpoint.
func TestSecretsManagerLifecycle(t *testing.T) {
	sm, proxy, endpoint := smSetup(t, map[string]string{
		"intercom/ios":    smIOSv1,
		"intercom/mobile": `{"android":"` + smAndroid + `","web":"` + smWeb + `"}`,
	})
	iosOut, err := sm.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String("intercom/ios")})
	if err != nil {
		t.Fatal(err)
	}
	iosID := aws.ToString(iosOut.ARN) // iOS by ARN, the others by name#key

	started := time.Now()
	s := start(t, smEnv(t, endpoint, map[string]string{
		"IOS_SECRET_ID":     iosID,
		"ANDROID_SECRET_ID": "intercom/mobile#android",
		"WEB_SECRET_ID":     "intercom/mobile#web",
	}))

	want := map[string]string{
		"ios":     independentHash(smIOSv1, smUserID),
		"android": independentHash(smAndroid, smUserID),
		"web":     independentHash(smWeb, smUserID),
	}
	t.Run("the cold start fetched both secrets in one BatchGetSecretValue", func(t *testing.T) {
		// Each answer of moto's matched to its ID (iOS's by ARN): none
		// fetched again on its own.
		if got, ios, mobile := proxy.Batches(), proxy.Calls(iosID), proxy.Calls("intercom/mobile"); got != 1 || ios != 1 || mobile != 1 {
			t.Errorf("batches = %d, calls of iOS's ARN = %d, of intercom/mobile = %d; want 1, 1, 1", got, ios, mobile)
		}
	})

	t.Run("each platform is served with its own secret", func(t *testing.T) {
		for _, p := range []string{"ios", "android", "web"} {
			status, _, body := smAsk(t, s, p)
			if got := smHash(t, status, body); got != want[p] {
				t.Errorf("%s user_hash = %s, want HMAC with the %s secret = %s", p, got, p, want[p])
			}
		}
	})

	t.Run("at most one call per secret per TTL under concurrent load", func(t *testing.T) {
		const requests, workers = 300, 30
		platforms := []string{"ios", "android", "web", "iPhone", "browser"}
		jobs := make(chan string)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for p := range jobs {
					status, _, body := smAsk(t, s, p)
					if status != http.StatusOK {
						t.Errorf("%s: status %d; body %s", p, status, body)
					}
				}
			})
		}
		for i := range requests {
			jobs <- platforms[i%len(platforms)]
		}
		close(jobs)
		wg.Wait()
		elapsed := time.Since(started)
		for _, id := range []string{iosID, "intercom/mobile"} {
			if got, limit := proxy.Calls(id), maxCalls(elapsed, smTTL); got < 1 || got > limit {
				t.Errorf("GetSecretValue calls for %s over %v = %d, want 1 to %d (one per %v TTL)", id, elapsed.Round(time.Millisecond), got, limit, smTTL)
			}
		}
		if others := proxy.Others(); len(others) != 0 {
			t.Errorf("the function called operations other than GetSecretValue and BatchGetSecretValue: %v", others)
		}
	})

	t.Run("a rotated secret is served after the TTL", func(t *testing.T) {
		if _, err := sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{
			SecretId: aws.String("intercom/ios"), SecretString: aws.String(smIOSv2),
		}); err != nil {
			t.Fatalf("PutSecretValue: %v", err)
		}
		rotated := time.Now()
		wantNew := independentHash(smIOSv2, smUserID)
		// The TTL plus its jitter, plus room for a slow machine.
		deadline := rotated.Add(smTTL + smTTL/10 + 3*time.Second)
		for {
			status, _, body := smAsk(t, s, "ios")
			got := smHash(t, status, body)
			if got == wantNew {
				break
			}
			if got != want["ios"] {
				t.Fatalf("user_hash = %s, neither the old secret's nor the rotated one's", got)
			}
			if time.Now().After(deadline) {
				t.Fatalf("the rotated secret was not served %v after PutSecretValue (TTL %v)", time.Since(rotated).Round(time.Millisecond), smTTL)
			}
			time.Sleep(50 * time.Millisecond)
		}
		want["ios"] = wantNew
	})

	t.Run("an outage of the endpoint is served from the stale values", func(t *testing.T) {
		before := map[string]int{iosID: proxy.Calls(iosID), "intercom/mobile": proxy.Calls("intercom/mobile")}
		proxy.SetDown(true)
		down := time.Now()
		// Past two TTLs every value has expired and been refreshed in vain.
		for time.Since(down) < 2*smTTL+smTTL/2 {
			for _, p := range []string{"ios", "android", "web"} {
				status, _, body := smAsk(t, s, p)
				if got := smHash(t, status, body); got != want[p] {
					t.Fatalf("%s during the outage: user_hash = %s, want the stale secret's %s", p, got, want[p])
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		elapsed := time.Since(down)
		for id, n := range before {
			// Refreshes back off from 1s, doubling.
			if got, limit := proxy.Calls(id)-n, maxCalls(elapsed, time.Second); got < 1 || got > limit {
				t.Errorf("GetSecretValue calls for %s during a %v outage = %d, want 1 to %d", id, elapsed.Round(time.Millisecond), got, limit)
			}
		}
		if !strings.Contains(s.Log(), "Secrets Manager server error on GetSecretValue") || !strings.Contains(s.Log(), `"serving_stale":true`) {
			t.Errorf("the log does not report the outage and the stale serving:\n%s", s.Log())
		}
		proxy.SetDown(false)
	})

	for _, v := range []string{smIOSv1, smIOSv2, smAndroid, smWeb} {
		if strings.Contains(s.Log(), v) {
			t.Errorf("the log holds a secret value %q", v)
		}
	}
}

// TestSecretsManagerMissingSecret checks that a platform whose secret does
// not exist answers 503 secret_unavailable with Retry-After, costs at most
// one call per backoff interval, does not stop the other platforms, and
// recovers once the secret is created.
func TestSecretsManagerMissingSecret(t *testing.T) {
	sm, proxy, endpoint := smSetup(t, map[string]string{"intercom/ios": smIOSv1})
	started := time.Now()
	s := start(t, smEnv(t, endpoint, map[string]string{
		"IOS_SECRET_ID": "intercom/ios",
		"WEB_SECRET_ID": "intercom/web-not-yet-created",
	}))
	if !strings.Contains(s.Log(), "secret not found in Secrets Manager") {
		t.Errorf("the failed prefetch at start is not logged:\n%s", s.Log())
	}

	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if i%4 == 0 {
				status, _, body := smAsk(t, s, "ios")
				if status != http.StatusOK {
					t.Errorf("ios status = %d, want 200 while web's secret is missing; body %s", status, body)
				}
				return
			}
			status, hdr, body := smAsk(t, s, "web")
			var p problem
			_ = json.Unmarshal(body, &p)
			if status != http.StatusServiceUnavailable || p.Code != "secret_unavailable" {
				t.Errorf("web = %d %q, want 503 secret_unavailable; body %s", status, p.Code, body)
				return
			}
			if n, err := strconv.Atoi(hdr.Get("Retry-After")); err != nil || n < 1 {
				t.Errorf("Retry-After = %q, want whole seconds, at least 1", hdr.Get("Retry-After"))
			}
			if bytes.Contains(body, []byte("ResourceNotFound")) {
				t.Errorf("the body passes on the AWS error: %s", body)
			}
		})
	}
	wg.Wait()
	// The start's prefetch, the first request's retry, then one call per
	// backoff interval of at least 1s.
	if got, limit := proxy.Calls("intercom/web-not-yet-created"), 1+maxCalls(time.Since(started), time.Second); got > limit {
		t.Errorf("GetSecretValue calls for the missing secret = %d, want at most %d", got, limit)
	}

	if _, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String("intercom/web-not-yet-created"), SecretString: aws.String(smWeb),
	}); err != nil {
		t.Fatal(err)
	}
	// Retry-After says when the next fetch will be tried: waiting that
	// long must be enough for the new secret to be served.
	status, hdr, body := smAsk(t, s, "web")
	if status == http.StatusServiceUnavailable {
		n, err := strconv.Atoi(hdr.Get("Retry-After"))
		if err != nil || n < 1 {
			t.Fatalf("Retry-After = %q, want whole seconds, at least 1", hdr.Get("Retry-After"))
		}
		time.Sleep(time.Duration(n)*time.Second + 300*time.Millisecond)
		status, _, body = smAsk(t, s, "web")
	}
	if got, want := smHash(t, status, body), independentHash(smWeb, smUserID); got != want {
		t.Errorf("web user_hash = %s, want %s", got, want)
	}
}
