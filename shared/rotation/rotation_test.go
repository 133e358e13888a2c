// The rotation function against moto_server's Secrets Manager (real
// version stages) and the Intercom fake: one rotation, rotations in a row,
// every step twice, a failure at each step and then the retry, and the
// cases it must refuse. What moto proves: the staging-label protocol
// (AWSPENDING versions without a value, PutSecretValue with a
// ClientRequestToken, UpdateSecretVersionStage moving AWSCURRENT and
// AWSPREVIOUS) as Secrets Manager runs it; what it does not: IAM, KMS, and
// Secrets Manager's own retry schedule, which the tests play by rerunning
// the whole rotation after a failure.

package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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

func TestFullRotation(t *testing.T) {
	e := newEnv(t)
	ios := e.platformSecret("intercom/ios", platform.IOS, "dashboard-ios-secret")
	web := e.platformSecret("intercom/web", platform.Web, "dashboard-web-secret")
	r := e.rotator([]subject{ios, web})
	original := e.versionWith(ios, "AWSCURRENT")

	token := e.rotate(r, ios)
	e.checkSettled(ios, token)
	if got := e.versionWith(ios, "AWSPREVIOUS"); got != original {
		t.Errorf("AWSPREVIOUS is on %s, want the dashboard value's version %s", got, original)
	}
	if got := e.value(ios, "AWSPREVIOUS"); got != "dashboard-ios-secret" {
		t.Errorf("the AWSPREVIOUS value changed")
	}
	// The new secret is iOS's own, and the dashboard's secret still
	// verifies: nothing was deleted.
	live := e.intercom.Live(platform.IOS)
	if len(live) != 2 || live[0].Material != "dashboard-ios-secret" {
		t.Fatalf("live iOS secrets = %v, want the dashboard's and the new one", e.liveIDs(platform.IOS))
	}
	if live[1].Supports(platform.Android) || live[1].Supports(platform.Web) {
		t.Errorf("the new secret is enabled for %v, want iOS alone", live[1].Platforms)
	}
	// The user-hash function reads it under the same secret ID.
	out, err := e.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(ios.arn), VersionStage: aws.String("AWSCURRENT")})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := secrets.ValueOf(out, ""); err != nil || string(got) != live[1].Material {
		t.Errorf("the user-hash function would read %v, want the new secret", err)
	}
	// The web secret was not touched.
	if got := len(e.intercom.Live(platform.Web)); got != 1 || e.value(web, "AWSCURRENT") != "dashboard-web-secret" {
		t.Errorf("rotating iOS changed web: %d live web secrets", got)
	}
	if n := e.intercom.Count(intercomfake.Create); n != 1 {
		t.Errorf("Intercom creates = %d, want 1", n)
	}
	for _, step := range rotation.Steps() {
		if !strings.Contains(e.logs.String(), `"step":"`+step+`"`) {
			t.Errorf("no log line for %s", step)
		}
	}
}

// TestRotationsInARow checks which Intercom secrets exist after each of
// four rotations: a secret is deleted when its version is two rotations
// old, and never the dashboard's or another stack's.
func TestRotationsInARow(t *testing.T) {
	e := newEnv(t)
	ios := e.platformSecret("intercom/ios", platform.IOS, "dashboard-ios-secret")
	dashboard := e.liveIDs(platform.IOS)[0]
	otherStack := e.intercom.AddSecret("AWS Secrets Manager ios other-stack/ios 0f6a4b36-3a0b-4dd4-9b8e-1c3a77e0a001", "other-stack-secret", platform.IOS)
	r := e.rotator([]subject{ios})

	var made []string // the Intercom secret of each rotation
	for i := 1; i <= 4; i++ {
		token := e.rotate(r, ios)
		e.checkSettled(ios, token)
		made = append(made, e.rotated(ios, "AWSCURRENT").IntercomSecretID)
		// The dashboard's and the other stack's secrets live on; of ours,
		// the current and the previous rotation's.
		want := []string{dashboard, otherStack}
		want = append(want, made[max(0, i-2):]...)
		if got := e.liveIDs(platform.IOS); !sameSet(got, want) {
			t.Errorf("after rotation %d live iOS secrets = %v, want %v", i, got, want)
		}
	}
	if n := e.intercom.Count(intercomfake.Delete); n != 2 {
		t.Errorf("Intercom deletes = %d, want 2 (rotations 3 and 4 each retire one)", n)
	}
}

// TestEveryStepTwice runs each step twice in a row, as Secrets Manager may:
// the outcome is one rotation's.
func TestEveryStepTwice(t *testing.T) {
	e := newEnv(t)
	ios := e.platformSecret("intercom/ios", platform.IOS, "dashboard-ios-secret")
	r := e.rotator([]subject{ios})
	for i := 1; i <= 3; i++ {
		token := e.start(ios)
		for _, step := range rotation.Steps() {
			for n := 1; n <= 2; n++ {
				if err := e.step(r, ios, token, step); err != nil {
					t.Fatalf("rotation %d, %s run %d: %v", i, step, n, err)
				}
			}
		}
		e.checkSettled(ios, token)
		if got, want := e.intercom.Count(intercomfake.Create), i; got != want {
			t.Errorf("after rotation %d Intercom creates = %d, want %d", i, got, want)
		}
	}
	if got := len(e.liveIDs(platform.IOS)); got != 3 {
		t.Errorf("live iOS secrets = %d, want 3 (the dashboard's, the current and the previous)", got)
	}
	// And once done, a late step of the finished rotation changes nothing.
	last := e.versionWith(ios, "AWSCURRENT")
	for _, step := range rotation.Steps() {
		if err := e.step(r, ios, last, step); err != nil {
			t.Errorf("%s of a finished rotation: %v", step, err)
		}
	}
	e.checkSettled(ios, last)
}

// TestFailureAtEachStepThenRetry injects one failure per case, at the step
// it names, then reruns the whole rotation with the same token as Secrets
// Manager retries it; the retry must complete with nothing orphaned and
// nothing missing. Each case runs on the third rotation, so that
// finishSecret has a secret to retire.
func TestFailureAtEachStepThenRetry(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name    string
		step    string
		inject  func(e *env)
		wantErr string // in the failed step's error and log line
		logs    string // in the log line too
		settle  func(e *env, t *testing.T, token string)
		timeout time.Duration // the function's call timeout; 0 for the default
	}{
		{name: "create: Intercom answers 503 to the list", step: rotation.StepCreate,
			inject:  func(e *env) { e.intercom.Inject(intercomfake.List, intercomfake.Status(503)) },
			wantErr: "Intercom GET /secure_mode_secrets: HTTP 503", logs: `"intercom_status":503`},
		{name: "create: Intercom answers 401", step: rotation.StepCreate,
			inject:  func(e *env) { e.intercom.Inject(intercomfake.Create, intercomfake.Status(401)) },
			wantErr: "HTTP 401 unauthorized", logs: `"intercom_code":"unauthorized"`},
		{name: "create: Intercom answers 422", step: rotation.StepCreate,
			inject:  func(e *env) { e.intercom.Inject(intercomfake.Create, intercomfake.Status(422)) },
			wantErr: "HTTP 422 parameter_invalid", logs: `"intercom_status":422`},
		{name: "create: the create succeeds but its answer is lost", step: rotation.StepCreate,
			inject:  func(e *env) { e.intercom.Inject(intercomfake.Create, intercomfake.LoseResponse()) },
			wantErr: "Intercom POST /secure_mode_secrets: no answer", logs: `"intercom_status":0`},
		{name: "create: the create answers too late", step: rotation.StepCreate,
			inject: func(e *env) {
				held, release := intercomfake.Hold()
				e.intercom.Inject(intercomfake.Create, held)
				e.release = release
			},
			wantErr: "context deadline exceeded", logs: `"timeout":true`, timeout: 2 * time.Second,
			// Secrets Manager retries later; by then the slow create has
			// landed, and the retry must find it.
			settle: func(e *env, t *testing.T, token string) {
				e.release()
				waitFor(t, "the slow create to land", func() bool {
					return slices.ContainsFunc(e.intercom.All(), func(s intercomfake.Secret) bool { return strings.Contains(s.Name, token) })
				})
			}},
		{name: "create: PutSecretValue fails after Intercom made the secret", step: rotation.StepCreate,
			inject: func(e *env) {
				e.faults.fail("PutSecretValue", "", 1, awsfake.SMInternalServiceError)
			},
			wantErr: "store the new version (its Intercom secret", logs: `"aws_error":"InternalServiceError"`},
		{name: "create: the access token cannot be read", step: rotation.StepCreate,
			inject: func(e *env) {
				e.faults.fail("GetSecretValue", "access-token", 1, awsfake.SMAccessDenied)
			},
			wantErr: "read the Intercom access token (INTERCOM_TOKEN_SECRET_ID)", logs: `"aws_error":"AccessDeniedException"`},
		{name: "set: Secrets Manager fails DescribeSecret", step: rotation.StepSet,
			inject: func(e *env) {
				e.faults.fail("DescribeSecret", "", 1, awsfake.SMInternalServiceError)
			},
			wantErr: "DescribeSecret", logs: `"aws_error":"InternalServiceError"`},
		{name: "test: Intercom answers 500 to the list", step: rotation.StepTest,
			inject:  func(e *env) { e.intercom.Inject(intercomfake.List, intercomfake.Status(500)) },
			wantErr: "HTTP 500 server_error", logs: `"step":"testSecret"`},
		{name: "finish: Intercom answers 502 to the delete", step: rotation.StepFinish,
			inject:  func(e *env) { e.intercom.Inject(intercomfake.Delete, intercomfake.Status(502)) },
			wantErr: "delete the Intercom secret", logs: `"intercom_status":502`},
		{name: "finish: the delete's answer is lost", step: rotation.StepFinish,
			inject:  func(e *env) { e.intercom.Inject(intercomfake.Delete, intercomfake.LoseResponse()) },
			wantErr: "no answer", logs: `"step":"finishSecret"`},
		{name: "finish: moving AWSCURRENT fails", step: rotation.StepFinish,
			inject: func(e *env) {
				e.faults.fail("UpdateSecretVersionStage", `"VersionStage":"AWSCURRENT"`, 1, awsfake.SMServiceUnavailable)
			},
			wantErr: "move AWSCURRENT to the new version", logs: `"step":"finishSecret"`},
		{name: "finish: taking AWSPENDING off fails after AWSCURRENT moved", step: rotation.StepFinish,
			inject: func(e *env) {
				e.faults.fail("UpdateSecretVersionStage", `"VersionStage":"AWSPENDING"`, 1, awsfake.SMThrottling)
			},
			wantErr: "take AWSPENDING off the new version", logs: `"aws_error":"ThrottlingException"`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			ios := e.platformSecret(fmt.Sprintf("intercom/ios-%d", i), platform.IOS, fmt.Sprintf("dashboard-%d", i))
			r := e.rotator([]subject{ios}, rotation.WithCallTimeout(tt.timeout))
			e.rotate(r, ios)
			e.rotate(r, ios)
			retiring := e.rotated(ios, "AWSPREVIOUS").IntercomSecretID
			logStart := len(e.logs.String())

			token := e.start(ios)
			var failed error
			for _, step := range rotation.Steps() {
				if step == tt.step {
					tt.inject(e)
				}
				if err := e.step(r, ios, token, step); err != nil {
					if step != tt.step {
						t.Fatalf("%s failed, want %s to fail: %v", step, tt.step, err)
					}
					failed = err
					break
				}
			}
			if failed == nil {
				t.Fatalf("no step failed; the fault at %s was not felt", tt.step)
			}
			var se *rotation.StepError
			if !errors.As(failed, &se) || se.Step != tt.step || se.Platform != platform.IOS || !strings.Contains(failed.Error(), tt.wantErr) {
				t.Errorf("error = %v, want a %s error for ios saying %q", failed, tt.step, tt.wantErr)
			}
			line := lastLine(e.logs.String()[logStart:], "rotation step failed")
			for _, want := range []string{`"step":"` + tt.step + `"`, `"platform":"ios"`, tt.logs} {
				if !strings.Contains(line, want) {
					t.Errorf("the failure's log line %s lacks %s", line, want)
				}
			}
			if tt.step != rotation.StepFinish && e.versionWith(ios, "AWSCURRENT") == token {
				t.Errorf("the new version became current although %s failed", tt.step)
			}
			// Until finishSecret succeeds, the current secret verifies.
			if cur, ok, _ := secrets.ParseRotated(e.value(ios, "AWSCURRENT")); ok && !slices.Contains(e.liveIDs(platform.IOS), cur.IntercomSecretID) {
				t.Errorf("after the failure the AWSCURRENT secret %s is not live in Intercom", cur.IntercomSecretID)
			}

			if tt.settle != nil {
				tt.settle(e, t, token)
			}
			// Secrets Manager retries the rotation with the same token, in
			// a new invocation.
			r = e.rotator([]subject{ios})
			for _, step := range rotation.Steps() {
				if err := e.step(r, ios, token, step); err != nil {
					t.Fatalf("retry: %s: %v", step, err)
				}
			}
			e.checkSettled(ios, token)
			if slices.Contains(e.liveIDs(platform.IOS), retiring) {
				t.Errorf("the secret two rotations old (%s) is still live after the retry", retiring)
			}
			mine := 0
			for _, s := range e.intercom.Live(platform.IOS) {
				if strings.Contains(s.Name, " "+ios.name+" ") {
					mine++
				}
			}
			if mine != 2 {
				t.Errorf("live secrets made for %s = %d, want 2 (current and previous)", ios.name, mine)
			}
		})
	}
}

// TestStraysAreDeleted: a create whose answer was lost can land after the
// retry made the secret that was stored. Such a stray carries its version's
// name; finishSecret deletes it, and one that lands even later goes with
// its version's secret two rotations on.
func TestStraysAreDeleted(t *testing.T) {
	e := newEnv(t)
	ios := e.platformSecret("intercom/ios", platform.IOS, "dashboard-ios-secret")
	r := e.rotator([]subject{ios})
	token := e.start(ios)
	if err := e.step(r, ios, token, rotation.StepCreate); err != nil {
		t.Fatal(err)
	}
	name := "AWS Secrets Manager ios " + ios.name + " " + token
	early := e.intercom.AddSecret(name, "stray-early", platform.IOS)
	for _, step := range rotation.Steps()[1:] {
		if err := e.step(r, ios, token, step); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	e.checkSettled(ios, token)
	if slices.Contains(e.liveIDs(platform.IOS), early) {
		t.Errorf("the stray %s of the new version outlived finishSecret", early)
	}
	late := e.intercom.AddSecret(name, "stray-late", platform.IOS)
	e.rotate(r, ios)
	if !slices.Contains(e.liveIDs(platform.IOS), late) {
		t.Errorf("a stray of the previous version went one rotation early")
	}
	e.rotate(r, ios)
	if slices.Contains(e.liveIDs(platform.IOS), late) {
		t.Errorf("the stray %s outlived its version's retirement", late)
	}
}

// TestConfigurationTest: a RotationSchedule that does not rotate at once
// has Secrets Manager run testSecret alone on a copy of the current value.
// It passes when the access token reads Intercom, fails when it does not,
// and creates nothing; a real rotation afterwards is unaffected.
func TestConfigurationTest(t *testing.T) {
	e := newEnv(t)
	ios := e.platformSecret("intercom/ios", platform.IOS, "dashboard-ios-secret")
	r := e.rotator([]subject{ios})
	ctx := context.Background()
	check := func() error {
		token, err := awsfake.StartRotationCheck(ctx, e.sm, ios.arn)
		if err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := awsfake.EndRotationCheck(ctx, e.sm, ios.arn, token); err != nil {
				t.Fatal(err)
			}
		}()
		return e.step(r, ios, token, rotation.StepTest)
	}
	if err := check(); err != nil {
		t.Errorf("the configuration test failed: %v", err)
	}
	e.intercom.Inject(intercomfake.List, intercomfake.Status(401))
	if err := check(); err == nil || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("with a token Intercom refuses, the configuration test = %v, want a 401 failure", err)
	}
	if n := e.intercom.Count(intercomfake.Create); n != 0 {
		t.Errorf("the configuration test made %d Intercom secrets", n)
	}
	token := e.rotate(r, ios)
	e.checkSettled(ios, token)
	// And on a rotated current value too.
	if err := check(); err != nil {
		t.Errorf("the configuration test on a rotated value failed: %v", err)
	}
	// An empty AWSPENDING version, as a test may leave it, passes as well.
	empty := e.start(ios)
	if err := e.step(r, ios, empty, rotation.StepTest); err != nil {
		t.Errorf("testSecret on an AWSPENDING version with no value = %v, want the configuration test to pass", err)
	}
	if err := e.step(r, ios, empty, rotation.StepFinish); err == nil {
		t.Error("finishSecret made a version current that createSecret never filled")
	}
}

// TestRefuses holds the steps to Secrets Manager's documented checks and
// to the cases where rotating would do harm.
func TestRefuses(t *testing.T) {
	e := newEnv(t)
	ios := e.platformSecret("intercom/ios", platform.IOS, "dashboard-ios-secret")
	shared := e.platformSecret("intercom/shared", platform.Android, `{"android":"a-secret","web":"w-secret"}`)
	notRotating := e.platformSecret("intercom/web", platform.Web, "dashboard-web-secret")
	stranger := subject{arn: e.create("someone/else", "someone-else's-secret"), name: "someone/else", platform: platform.IOS}
	r := e.rotator([]subject{ios, shared, notRotating})
	ctx := context.Background()

	token := e.start(ios)
	sharedToken := e.start(shared)
	previous := e.versionWith(ios, "AWSCURRENT")
	tests := []struct {
		name    string
		ev      events.SecretsManagerSecretRotationEvent
		wantErr string
	}{
		{"a secret that is not one of ours", events.SecretsManagerSecretRotationEvent{Step: "createSecret", SecretID: stranger.arn, ClientRequestToken: token},
			"is none of the platform secrets this function rotates"},
		{"rotation not enabled", events.SecretsManagerSecretRotationEvent{Step: "createSecret", SecretID: notRotating.arn, ClientRequestToken: token},
			"rotation is not enabled"},
		{"a token that is no version", events.SecretsManagerSecretRotationEvent{Step: "createSecret", SecretID: ios.arn, ClientRequestToken: "0f6a4b36-3a0b-4dd4-9b8e-1c3a77e0a0ff"},
			"is not a version of the secret"},
		{"a version that is not AWSPENDING", events.SecretsManagerSecretRotationEvent{Step: "testSecret", SecretID: ios.arn, ClientRequestToken: previous},
			""},
		{"an unknown step", events.SecretsManagerSecretRotationEvent{Step: "dropSecret", SecretID: ios.arn, ClientRequestToken: token},
			`unknown step "dropSecret"`},
		{"a malformed token", events.SecretsManagerSecretRotationEvent{Step: "createSecret", SecretID: ios.arn, ClientRequestToken: "x\"; drop"},
			"is not a version id"},
		{"no secret id", events.SecretsManagerSecretRotationEvent{Step: "createSecret", ClientRequestToken: token},
			"no SecretId"},
		{"a shared JSON secret", events.SecretsManagerSecretRotationEvent{Step: "createSecret", SecretID: shared.arn, ClientRequestToken: sharedToken},
			"would wipe out its other fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Handle(ctx, tt.ev)
			if tt.wantErr == "" {
				// The current version given as the token: already done.
				if err != nil {
					t.Errorf("a step for the AWSCURRENT version = %v, want nil (done)", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want one saying %q", err, tt.wantErr)
			}
		})
	}
	if n := e.intercom.Count(intercomfake.Create); n != 0 {
		t.Errorf("refused steps made %d Intercom secrets", n)
	}
	if got := e.value(shared, "AWSCURRENT"); got != `{"android":"a-secret","web":"w-secret"}` {
		t.Errorf("the shared secret changed")
	}

	t.Run("an AWSPENDING value put by hand", func(t *testing.T) {
		if _, err := e.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(ios.arn), ClientRequestToken: aws.String(token),
			SecretString: aws.String("typed-by-hand"), VersionStages: []string{"AWSPENDING"}}); err != nil {
			t.Fatal(err)
		}
		for _, step := range []string{rotation.StepCreate, rotation.StepFinish} {
			if err := e.step(r, ios, token, step); err == nil {
				t.Errorf("%s accepted an AWSPENDING value this function did not write", step)
			}
		}
		if e.versionWith(ios, "AWSCURRENT") == token {
			t.Error("a hand-put AWSPENDING value became current")
		}
	})
}

// TestKeepsWhatItDidNotMake: a version whose value records an Intercom
// secret this function did not make for it (pasted from another stack, or
// renamed) keeps that secret when it is retired.
func TestKeepsWhatItDidNotMake(t *testing.T) {
	e := newEnv(t)
	ios := e.platformSecret("intercom/ios", platform.IOS, "dashboard-ios-secret")
	r := e.rotator([]subject{ios})
	foreign := e.intercom.AddSecret("AWS Secrets Manager ios other-stack/ios 0f6a4b36-3a0b-4dd4-9b8e-1c3a77e0a001", "other-stack-secret", platform.IOS)
	value, _ := secrets.RotatedValue{Secret: "other-stack-secret", IntercomSecretID: foreign}.Marshal()
	if _, err := e.sm.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String(ios.arn), SecretString: aws.String(value)}); err != nil {
		t.Fatal(err)
	}
	e.seen = append(e.seen, "other-stack-secret")
	e.rotate(r, ios)
	token := e.rotate(r, ios) // retires the pasted value's version
	e.checkSettled(ios, token)
	if !slices.Contains(e.liveIDs(platform.IOS), foreign) {
		t.Errorf("the other stack's secret %s was deleted", foreign)
	}
	if !strings.Contains(e.logs.String(), "is kept") || !strings.Contains(e.logs.String(), `"intercom_secret_id":"`+foreign+`"`) {
		t.Errorf("keeping it is not logged with its id:\n%s", e.logs)
	}
}

// TestRollbackThenRotate: after AWSCURRENT is moved back by hand, the next
// rotation keeps the secret it was moved away from: that secret was
// current moments ago and may be in every cache.
func TestRollbackThenRotate(t *testing.T) {
	e := newEnv(t)
	ios := e.platformSecret("intercom/ios", platform.IOS, "dashboard-ios-secret")
	r := e.rotator([]subject{ios})
	v1 := e.rotate(r, ios)
	// moto dates versions in whole seconds; make v2 visibly the newer.
	time.Sleep(1100 * time.Millisecond)
	v2 := e.rotate(r, ios)
	demoted := e.rotated(ios, "AWSCURRENT").IntercomSecretID
	if _, err := e.sm.UpdateSecretVersionStage(context.Background(), &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(ios.arn), VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: aws.String(v1), RemoveFromVersionId: aws.String(v2),
	}); err != nil {
		t.Fatal(err)
	}
	token := e.rotate(r, ios)
	if !slices.Contains(e.liveIDs(platform.IOS), demoted) {
		t.Errorf("the secret rolled back from (%s) was deleted by the next rotation", demoted)
	}
	if e.versionWith(ios, "AWSCURRENT") != token {
		t.Errorf("the rotation after a rollback did not complete")
	}
	if !strings.Contains(e.logs.String(), "moved back by hand") {
		t.Errorf("keeping it is not explained in the log:\n%s", e.logs)
	}
}

// TestStepsEndBeforeTheInvocation: with Intercom hanging, a step fails
// inside the invocation's deadline, leaving time to log and return.
func TestStepsEndBeforeTheInvocation(t *testing.T) {
	e := newEnv(t)
	ios := e.platformSecret("intercom/ios", platform.IOS, "dashboard-ios-secret")
	r := e.rotator([]subject{ios}) // the default call timeout, 5s, is longer than the invocation
	token := e.start(ios)
	e.intercom.Inject(intercomfake.List, intercomfake.Slow(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := r.Handle(ctx, events.SecretsManagerSecretRotationEvent{Step: rotation.StepCreate, SecretID: ios.arn, ClientRequestToken: token})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want a deadline error", err)
	}
	if ctx.Err() != nil {
		t.Errorf("the step returned only after the invocation's deadline")
	}
}

// TestIntercomURLIsHonoured: a regional API base URL is where the calls go.
func TestIntercomURLIsHonoured(t *testing.T) {
	e := newEnv(t)
	ios := e.platformSecret("intercom/ios", platform.IOS, "dashboard-ios-secret")
	other := intercomfake.New(accessToken)
	otherURL := other.Start(t)
	e.url = otherURL
	r := e.rotator([]subject{ios})
	e.rotate(r, ios)
	if other.Count(intercomfake.Create) != 1 || e.intercom.Count(intercomfake.Create) != 0 {
		t.Errorf("creates: %d at the configured URL, %d elsewhere", other.Count(intercomfake.Create), e.intercom.Count(intercomfake.Create))
	}
	for _, s := range other.All() {
		e.seen = append(e.seen, s.Material)
	}
}

func lastLine(logs, msg string) string {
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], `"msg":"`+msg+`"`) {
			return lines[i]
		}
	}
	return ""
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestCloseRotationsKeepEverySecretInUse rotates three times seconds
// apart, on the real clock: no secret is deleted, since none has been out
// of use for RetireAfter (a cache's TTL with jitter, SECRET_MAX_STALE and
// a JWT's lifetime), and each kept one is logged and labelled. Rotations
// judged an hour later still keep them (the default RetireAfter is
// 2h5m30s); judged three hours later, the next rotation deletes every one
// but the current and the previous.
func TestCloseRotationsKeepEverySecretInUse(t *testing.T) {
	e := newEnv(t)
	ios := e.platformSecret("intercom/ios", platform.IOS, "dashboard-ios-secret")
	dashboard := e.liveIDs(platform.IOS)[0]
	now := rotation.WithClock(time.Now)
	r := e.rotator([]subject{ios}, now)

	var made []string
	for i := 1; i <= 3; i++ {
		token := e.rotate(r, ios)
		e.checkSettled(ios, token)
		made = append(made, e.rotated(ios, "AWSCURRENT").IntercomSecretID)
		if got, want := e.liveIDs(platform.IOS), append([]string{dashboard}, made...); !sameSet(got, want) {
			t.Errorf("after rotation %d, seconds after the first, live iOS secrets = %v, want every one made %v", i, got, want)
		}
	}
	if n := e.intercom.Count(intercomfake.Delete); n != 0 {
		t.Errorf("Intercom deletes = %d, want none: every secret was current minutes ago", n)
	}
	if !strings.Contains(e.logs.String(), "kept for now") {
		t.Errorf("keeping a secret is not logged:\n%s", e.logs)
	}
	// Every version that left AWSCURRENT carries the moment it did: the
	// dashboard's and the first two rotations'.
	if n := e.retiringLabels(ios); n != 3 {
		t.Errorf("%d versions carry a retiring label, want 3 (each version that left AWSCURRENT)", n)
	}

	hourLater := e.rotator([]subject{ios}, rotation.WithClock(func() time.Time { return time.Now().Add(time.Hour) }))
	made = append(made, "")
	e.rotate(hourLater, ios)
	made[3] = e.rotated(ios, "AWSCURRENT").IntercomSecretID
	if got, want := e.liveIDs(platform.IOS), append([]string{dashboard}, made...); !sameSet(got, want) {
		t.Errorf("judged an hour later, live iOS secrets = %v, want all %v", got, want)
	}

	// Three hours later the first two rotations' secrets have been out of
	// use for three hours and go; the third's left AWSCURRENT at the
	// hour-later rotation, two hours ago, and stays.
	threeHoursLater := e.rotator([]subject{ios}, rotation.WithClock(func() time.Time { return time.Now().Add(3 * time.Hour) }))
	token := e.rotate(threeHoursLater, ios)
	e.checkSettled(ios, token)
	latest := e.rotated(ios, "AWSCURRENT").IntercomSecretID
	if got, want := e.liveIDs(platform.IOS), []string{dashboard, made[2], made[3], latest}; !sameSet(got, want) {
		t.Errorf("judged three hours later, live iOS secrets = %v, want the dashboard's, the one out of use for two hours, the previous and the current %v", got, want)
	}
	if n := e.retiringLabels(ios); n != 2 {
		t.Errorf("%d versions carry a retiring label, want 2 (the two whose secrets are kept): a deleted one's label must go with it", n)
	}
}

// A finishSecret that succeeds only hours after its createSecret (Secrets
// Manager retrying a failed step) moves AWSCURRENT then: the secret it
// replaces was in use until that moment, however old the new version is,
// and a rotation minutes later must keep it.
func TestLateFinishKeepsTheSecretItReplaced(t *testing.T) {
	e := newEnv(t)
	ios := e.platformSecret("intercom/ios", platform.IOS, "dashboard-ios-secret")
	at := func(d time.Duration) *rotation.Rotator {
		return e.rotator([]subject{ios}, rotation.WithClock(func() time.Time { return time.Now().Add(d) }))
	}
	e.rotate(at(0), ios)
	first := e.rotated(ios, "AWSCURRENT").IntercomSecretID

	token := e.start(ios)
	for _, step := range []string{rotation.StepCreate, rotation.StepSet, rotation.StepTest} {
		if err := e.step(at(0), ios, token, step); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	if err := e.step(at(3*time.Hour), ios, token, rotation.StepFinish); err != nil {
		t.Fatalf("finish, three hours later: %v", err)
	}
	e.checkSettled(ios, token)

	e.rotate(at(3*time.Hour+time.Minute), ios)
	if !slices.Contains(e.liveIDs(platform.IOS), first) {
		t.Errorf("the first rotation's secret %s was deleted a minute after it stopped being current (its successor was made three hours earlier)", first)
	}
	if n := e.intercom.Count(intercomfake.Delete); n != 0 {
		t.Errorf("Intercom deletes = %d, want none", n)
	}
}
