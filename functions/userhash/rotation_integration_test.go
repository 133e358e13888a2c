// Rotation end to end (issue #12): the built local server signs with the
// iOS secret from moto_server while the rotation function rotates it
// through the Intercom fake, three times, under steady load. The stack
// starts as an operator left it before rotation: the dashboard's secret in
// plain text, and the same *_SECRET_ID afterwards. Every answer must be a
// 200, signed with the old secret until finishSecret and with the new one
// once the cache's TTL has passed; and, the three rotations coming
// seconds apart, every hash and JWT handed out must still verify in
// Intercom after each (issue #21: a secret current seconds before was
// deleted while caches and JWTs still used it). A fourth rotation, judged
// hours later, then deletes the secrets out of use that long.

package main_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/internal/intercomfake"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/rotation"
	"github.com/intercom-identity/userhash/shared/secrets"
)

const (
	rotDashboard = "rot-dashboard-ios-secret"
	rotToken     = "dG9rOnJvdGF0aW9uLWUyZS1pbnRlcmNvbS10b2tlbg=="
)

// handedOut is one answer the server gave, and the secret that made it.
type handedOut struct {
	hash, jwt, secret string
}

func TestRotationEndToEnd(t *testing.T) {
	sm, _, endpoint := smSetup(t, map[string]string{"intercom/ios": rotDashboard, "intercom/api-token": rotToken})
	ctx := context.Background()
	describe, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("intercom/ios")})
	if err != nil {
		t.Fatal(err)
	}
	iosARN := aws.ToString(describe.ARN)
	ic := intercomfake.New(rotToken)
	icURL := ic.Start(t)
	ic.AddSecret("Production iOS", rotDashboard, platform.IOS)

	env := smEnv(t, endpoint, map[string]string{"IOS_SECRET_ID": iosARN})
	env["SECRET_CACHE_TTL"] = "1s"
	s := start(t, env)

	var rotLog strings.Builder
	var rotLogMu sync.Mutex
	// The rotation function reads the server's lifetimes: a 1s TTL and
	// the default SECRET_MAX_STALE and USER_JWT_TTL (1h each).
	rotCfg := rotation.Config{
		Secrets:        map[platform.Platform]string{platform.IOS: iosARN},
		IntercomToken:  secrets.Ref{ID: "intercom/api-token"},
		IntercomAPIURL: icURL,
		RetireAfter:    rotation.RetireAfter(time.Second, time.Hour, time.Hour),
	}
	rotLogger := slog.New(slog.NewJSONHandler(lockedWriter{&rotLogMu, &rotLog}, nil))
	r := rotation.New(sm, rotCfg, rotation.WithLogger(rotLogger))

	// The secret each period signs with: the dashboard's, then each
	// rotation's.
	secretOf := []string{rotDashboard}
	var (
		mu       sync.Mutex
		answers  []handedOut
		failures []string
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	known := func(hash string) string {
		mu.Lock()
		defer mu.Unlock()
		for _, sec := range secretOf {
			if independentHash(sec, smUserID) == hash {
				return sec
			}
		}
		return ""
	}
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				status, _, body := rotAsk(t, s)
				var got success
				if status != http.StatusOK || json.Unmarshal(body, &got) != nil {
					mu.Lock()
					failures = append(failures, string(body))
					mu.Unlock()
					continue
				}
				sec := known(got.UserHash)
				mu.Lock()
				answers = append(answers, handedOut{hash: got.UserHash, jwt: got.UserJWT, secret: sec})
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	// waitAnswers waits until n answers were given and returns them all.
	// The limit is far beyond any TTL: it only ends a hung server.
	waitAnswers := func(n int) []handedOut {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			got, failed := append([]handedOut(nil), answers...), len(failures)
			mu.Unlock()
			if len(got) >= n {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("waited a minute for %d answers: %d given, %d requests failed", n, len(got), failed)
			}
		}
	}
	waitAnswers(20)

	for rot := 1; rot <= 3; rot++ {
		token, err := awsfake.StartRotation(ctx, sm, iosARN)
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range rotation.Steps()[:3] {
			if err := r.Handle(ctx, events.SecretsManagerSecretRotationEvent{Step: step, SecretID: iosARN, ClientRequestToken: token}); err != nil {
				t.Fatalf("rotation %d %s: %v", rot, step, err)
			}
		}
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(iosARN), VersionId: aws.String(token), VersionStage: aws.String("AWSPENDING")})
		if err != nil {
			t.Fatal(err)
		}
		next, _, _ := secrets.ParseRotated(aws.ToString(out.SecretString))
		mu.Lock()
		secretOf = append(secretOf, next.Secret)
		before := len(answers)
		mu.Unlock()
		// Until finishSecret, the pending secret is never served: the
		// cache asks for AWSCURRENT.
		for _, a := range waitAnswers(before + 10)[:before+10] {
			if a.secret == next.Secret {
				t.Fatalf("rotation %d: a hash was made with the AWSPENDING secret before finishSecret", rot)
			}
		}
		if err := r.Handle(ctx, events.SecretsManagerSecretRotationEvent{Step: rotation.StepFinish, SecretID: iosARN, ClientRequestToken: token}); err != nil {
			t.Fatalf("rotation %d finishSecret: %v", rot, err)
		}
		mu.Lock()
		finishedAt := len(answers)
		mu.Unlock()

		// Within the TTL (1s plus jitter) the server signs with the new
		// secret, and then never with an older one.
		for switched := false; !switched; {
			all := waitAnswers(finishedAt + 1)
			last := all[len(all)-1]
			switched = last.secret == next.Secret
			finishedAt = len(all)
		}
		settled := waitAnswers(finishedAt + 20)
		for _, a := range settled[finishedAt:] {
			if a.secret != next.Secret {
				t.Errorf("rotation %d: after the switch an answer was signed with another secret", rot)
				break
			}
		}

		// Every answer given so far still verifies: no secret has been
		// out of use for the TTL, SECRET_MAX_STALE and a JWT's lifetime.
		for _, a := range settled {
			verifies := ic.VerifiesHash(platform.IOS, smUserID, a.hash)
			jwtVerifies := ic.VerifiesJWT(platform.IOS, a.jwt)
			signedInPeriod := slices.Index(secretOf, a.secret)
			if a.secret == "" {
				t.Fatalf("an answer was signed with a secret that is no period's")
			}
			if !verifies || !jwtVerifies {
				t.Fatalf("after rotation %d, minutes after the first, a hash or JWT signed with period %d's secret fails in Intercom (hash %v, JWT %v)", rot, signedInPeriod, verifies, jwtVerifies)
			}
		}
	}
	close(stop)
	wg.Wait()

	// A fourth rotation, its clock three hours on: the secrets of periods
	// 1 and 2 have been out of use longer than RetireAfter and go; the
	// current one (period 3), the new one and the dashboard's stay.
	later := rotation.New(sm, rotCfg, rotation.WithLogger(rotLogger), rotation.WithClock(func() time.Time { return time.Now().Add(3 * time.Hour) }))
	token, err := awsfake.StartRotation(ctx, sm, iosARN)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range rotation.Steps() {
		if err := later.Handle(ctx, events.SecretsManagerSecretRotationEvent{Step: step, SecretID: iosARN, ClientRequestToken: token}); err != nil {
			t.Fatalf("rotation 4 %s: %v", step, err)
		}
	}
	for period, sec := range secretOf {
		verifies := ic.VerifiesHash(platform.IOS, smUserID, independentHash(sec, smUserID))
		if want := period == 0 || period == 3; verifies != want {
			t.Errorf("after a fourth rotation hours later, period %d's secret verifies = %v, want %v", period, verifies, want)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed during the rotations; the first: %s", len(failures), len(failures)+len(answers), failures[0])
	}
	t.Logf("%d answers over 3 rotations, none failed", len(answers))
	rotLogMu.Lock()
	logs := s.Log() + rotLog.String()
	rotLogMu.Unlock()
	for _, sec := range append(secretOf, rotToken) {
		if strings.Contains(logs, sec) {
			t.Errorf("a log shows a secret or the token (%.6s...)", sec)
		}
	}
}

func rotAsk(t *testing.T, s *Server) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader(`{"username": "`+smUsername+`", "password": "`+smPassword+`", "platform": "ios"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
