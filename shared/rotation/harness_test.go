// The rotation tests' stage: moto_server's Secrets Manager behind a proxy
// that can fail chosen calls, the Intercom fake, and Secrets Manager's part
// of the protocol (start a rotation, invoke each step) played by the test.

package rotation_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/internal/intercomfake"
	"github.com/intercom-identity/userhash/internal/logtest"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/rotation"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// accessToken is the Intercom access token, in moto and in the fake.
const accessToken = "dG9rOmEtcmVhbC1sb29raW5nLWludGVyY29tLWFjY2Vzcy10b2tlbg=="

// env is one moto_server and one Intercom workspace.
type env struct {
	t        *testing.T
	sm       *secretsmanager.Client // straight to moto: the test's own look
	proxied  *secretsmanager.Client // through the fault proxy: the function's
	faults   *smFaults
	intercom *intercomfake.Fake
	url      string // the fake's base URL
	tokenARN string
	logs     *logtest.Buffer
	seen     []string     // every secret material seen, to hold the logs to
	release  func()       // ends a call held by intercomfake.Hold
	weeks    atomic.Int64 // how far ahead the rotators' clock runs, in weeks: one more each start
}

func newEnv(t *testing.T) *env {
	t.Helper()
	motoURL := awsfake.StartMoto(t)
	e := &env{t: t, faults: &smFaults{}, intercom: intercomfake.New(accessToken), logs: &logtest.Buffer{}}
	e.sm = secretsmanager.NewFromConfig(awsfake.Config(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(motoURL) })
	proxyURL := awsfake.StartProxy(t, motoURL, e.faults.inspect)
	// One attempt per call, so that an injected failure is the step's,
	// not hidden by the SDK's retries; the function itself keeps them.
	e.proxied = secretsmanager.NewFromConfig(awsfake.Config(), func(o *secretsmanager.Options) {
		o.BaseEndpoint = aws.String(proxyURL)
		o.RetryMaxAttempts = 1
	})
	e.url = e.intercom.Start(t)
	e.tokenARN = e.create("intercom/access-token", accessToken)
	t.Cleanup(func() { e.checkLogsClean(t) })
	return e
}

// subject is one platform secret under rotation.
type subject struct {
	arn, name string
	platform  platform.Platform
}

// create makes a secret in moto and returns its ARN.
func (e *env) create(name, value string) string {
	e.t.Helper()
	out, err := e.sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	if err != nil {
		e.t.Fatalf("CreateSecret %s: %v", name, err)
	}
	e.seen = append(e.seen, value)
	return aws.ToString(out.ARN)
}

// platformSecret makes p's secret in moto holding the dashboard's plain
// value, and the same secret in the Intercom fake, made by hand.
func (e *env) platformSecret(name string, p platform.Platform, dashboard string) subject {
	e.t.Helper()
	e.intercom.AddSecret("Production "+p.String()+" (made in the dashboard)", dashboard, p)
	return subject{arn: e.create(name, dashboard), name: name, platform: p}
}

// rotator returns a rotation function for the subjects, logging to e.logs.
func (e *env) rotator(subjects []subject, opts ...rotation.Option) *rotation.Rotator {
	cfg := rotation.Config{Secrets: map[platform.Platform]string{}, IntercomToken: secrets.Ref{ID: e.tokenARN}, IntercomAPIURL: e.url}
	for _, s := range subjects {
		cfg.Secrets[s.platform] = s.arn
	}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The tests rotate seconds apart, and play rotations as far apart as
	// a real schedule's: the clock that judges a retired secret's age
	// moves a week ahead each time a rotation starts (start), so every
	// old secret has been out of use long enough by the next rotation.
	// TestCloseRotationsKeepEverySecretInUse passes clocks of its own.
	weekly := rotation.WithClock(func() time.Time { return time.Now().Add(time.Duration(e.weeks.Load()) * 7 * 24 * time.Hour) })
	return rotation.New(e.proxied, cfg, append([]rotation.Option{rotation.WithLogger(logger), weekly}, opts...)...)
}

// start starts a rotation of s as Secrets Manager does, and returns the
// new version's id.
func (e *env) start(s subject) string {
	e.t.Helper()
	e.weeks.Add(1)
	token, err := awsfake.StartRotation(context.Background(), e.sm, s.arn)
	if err != nil {
		e.t.Fatal(err)
	}
	return token
}

// step invokes one step, with the event Secrets Manager sends.
func (e *env) step(r *rotation.Rotator, s subject, token, step string) error {
	return r.Handle(context.Background(), events.SecretsManagerSecretRotationEvent{
		Step: step, SecretID: s.arn, ClientRequestToken: token, RotationToken: "8c7f3d0e-7a3b-4c5e-9f1a-2b3c4d5e6f70",
	})
}

// rotate runs a whole rotation of s, each step succeeding, and returns the
// new version's id.
func (e *env) rotate(r *rotation.Rotator, s subject) string {
	e.t.Helper()
	token := e.start(s)
	for _, step := range rotation.Steps() {
		if err := e.step(r, s, token, step); err != nil {
			e.t.Fatalf("%s: %v", step, err)
		}
	}
	return token
}

// retiringLabels counts s's versions that carry a retiring label.
func (e *env) retiringLabels(s subject) int {
	n := 0
	for _, stages := range e.labels(s) {
		if slices.ContainsFunc(stages, func(l string) bool { return strings.HasPrefix(l, "intercom-retiring-") }) {
			n++
		}
	}
	return n
}

// labels returns the secret's versions and their staging labels.
func (e *env) labels(s subject) map[string][]string {
	e.t.Helper()
	d, err := e.sm.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(s.arn)})
	if err != nil {
		e.t.Fatal(err)
	}
	return d.VersionIdsToStages
}

// versionWith returns the version that carries stage, or "".
func (e *env) versionWith(s subject, stage string) string {
	for id, stages := range e.labels(s) {
		if slices.Contains(stages, stage) {
			return id
		}
	}
	return ""
}

// value returns the SecretString of the version stage is on.
func (e *env) value(s subject, stage string) string {
	e.t.Helper()
	out, err := e.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.arn), VersionStage: aws.String(stage)})
	if err != nil {
		e.t.Fatalf("GetSecretValue %s %s: %v", s.name, stage, err)
	}
	return aws.ToString(out.SecretString)
}

// rotated returns the rotated value of the version stage is on.
func (e *env) rotated(s subject, stage string) secrets.RotatedValue {
	e.t.Helper()
	v, ok, err := secrets.ParseRotated(e.value(s, stage))
	if !ok || err != nil {
		e.t.Fatalf("the %s version of %s is not a rotated value (%v)", stage, s.name, err)
	}
	e.seen = append(e.seen, v.Secret)
	return v
}

// liveIDs returns the ids of the live Intercom secrets of p.
func (e *env) liveIDs(p platform.Platform) []string {
	var ids []string
	for _, s := range e.intercom.Live(p) {
		ids = append(ids, s.ID)
		e.seen = append(e.seen, s.Material)
	}
	return ids
}

// checkSettled holds a finished rotation to the protocol's end state and to
// what docs/deploy.md promises of it: AWSCURRENT on the new version and
// AWSPENDING nowhere; the current secret live in Intercom for the platform,
// named after its version; and no secret this function made for s alive in
// Intercom but the current and the previous version's, and those kept for
// now.
func (e *env) checkSettled(s subject, token string) {
	e.t.Helper()
	labels := e.labels(s)
	if !slices.Equal(labels[token], []string{"AWSCURRENT"}) {
		e.t.Errorf("version %s has labels %v, want [AWSCURRENT]", token, labels[token])
	}
	for id, stages := range labels {
		if slices.Contains(stages, "AWSPENDING") {
			e.t.Errorf("version %s still has AWSPENDING (%v) after the rotation", id, stages)
		}
	}
	cur := e.rotated(s, "AWSCURRENT")
	mine := map[string]bool{cur.IntercomSecretID: true}
	if prev, ok, _ := secrets.ParseRotated(e.value(s, "AWSPREVIOUS")); ok {
		mine[prev.IntercomSecretID] = true
	}
	// And those kept for now, as not long enough out of use, whose
	// versions carry a retiring label.
	for id, stages := range labels {
		for _, l := range stages {
			if strings.HasPrefix(l, "intercom-retiring-") {
				out, err := e.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.arn), VersionId: aws.String(id), VersionStage: aws.String(l)})
				if err != nil {
					e.t.Fatalf("GetSecretValue %s %s: %v", id, l, err)
				}
				if v, ok, _ := secrets.ParseRotated(aws.ToString(out.SecretString)); ok {
					mine[v.IntercomSecretID] = true
				}
			}
		}
	}
	found := false
	for _, live := range e.intercom.Live(s.platform) {
		if live.ID == cur.IntercomSecretID {
			found = true
			if live.Material != cur.Secret {
				e.t.Errorf("Intercom secret %s does not hold the secret AWSCURRENT records", live.ID)
			}
			if !strings.Contains(live.Name, token) || !strings.Contains(live.Name, s.name) {
				e.t.Errorf("Intercom secret %s is named %q; want the secret's name and the version id in it", live.ID, live.Name)
			}
		}
		if strings.Contains(live.Name, "AWS Secrets Manager "+s.platform.String()+" "+s.name+" ") && !mine[live.ID] {
			e.t.Errorf("Intercom secret %s (%s) was made by the function for %s but is neither the current nor the previous version's: an orphan", live.ID, live.Name, s.name)
		}
	}
	if !found {
		e.t.Errorf("the AWSCURRENT secret %s is not live in Intercom for %s", cur.IntercomSecretID, s.platform)
	}
}

// checkLogsClean fails t if the log shows a secret or a token.
func (e *env) checkLogsClean(t *testing.T) {
	logs := e.logs.String()
	for _, s := range append(e.seen, accessToken, "8c7f3d0e-7a3b-4c5e-9f1a-2b3c4d5e6f70") {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the log shows a secret or a token (%.6s...)", s)
		}
	}
	for _, s := range e.intercom.All() {
		if strings.Contains(logs, s.Material) {
			t.Errorf("the log shows the material of Intercom secret %s", s.ID)
		}
	}
}

// waitFor polls cond until it holds, or fails after a generous while: the
// fake's slow calls end on their own, and this only waits for that.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30s for %s", what)
		}
	}
}

// smFaults fails chosen Secrets Manager calls on their way to moto.
type smFaults struct {
	mu    sync.Mutex
	rules []*smFault
}

type smFault struct {
	op   string // e.g. "PutSecretValue"
	body string // the call's body must contain this; "" for any
	n    int    // calls still to fail
	err  *awsfake.Error
}

// fail makes the next n calls of op whose body contains body answer err.
func (f *smFaults) fail(op, body string, n int, err *awsfake.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, &smFault{op: op, body: body, n: n, err: err})
}

func (f *smFaults) inspect(op string, body []byte) *awsfake.Error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		if r.n > 0 && op == "secretsmanager."+r.op && bytes.Contains(body, []byte(r.body)) {
			r.n--
			return r.err
		}
	}
	return nil
}
