// Package rotation is the Secrets Manager rotation function of the platform
// secrets (README, "Rotating the Intercom secret"): it rotates a platform's
// Intercom identity-verification secret through Intercom's
// secure_mode_secrets API, so that old and new secrets verify side by side
// while every cache and issued JWT moves over.
//
//	r := rotation.New(secretsmanager.NewFromConfig(awsCfg), rotation.Config{
//		Secrets:        map[platform.Platform]string{platform.IOS: iosSecretARN},
//		IntercomToken:  secrets.Ref{ID: tokenSecretARN},
//		IntercomAPIURL: intercom.DefaultBaseURL,
//	}, rotation.WithLogger(logger))
//	lambda.Start(r.Handle) // Secrets Manager invokes it once per step
//
// Secrets Manager starts a rotation by giving the secret an empty version
// labelled AWSPENDING, whose id is the event's ClientRequestToken, and then
// invokes the four steps in order, retrying on failure:
//
//   - createSecret creates a secret for the platform in Intercom, named
//     after the secret and the version, and stores it with its Intercom id
//     as the AWSPENDING version: {"secret": "...", "intercom_secret_id": "..."}.
//   - setSecret has nothing left to do: the secret is live in Intercom.
//   - testSecret checks that Intercom lists the new secret for the platform.
//   - finishSecret deletes in Intercom the secret of the AWSPREVIOUS
//     version, two rotations old, and then makes the new version AWSCURRENT.
//
// So a secret verifies for a whole rotation period after it stops being
// current, and never less than Config.RetireAfter: a cached copy and the
// JWTs signed with it live that long. An AWSPREVIOUS secret younger than
// that (two rotations close together) is kept, logged, and its version
// labelled intercom-retiring-<since>-<version>, where <since> is when it
// stopped being current (the Unix second the next version was made); a
// later finishSecret deletes it once old enough. Every step may run again
// without harm: each first checks the version's stages as Secrets Manager documents (a version already
// AWSCURRENT is done), a createSecret looks in Intercom before it creates,
// and deletes only a secret this function made for that very version.
// Nothing here logs a secret, the access token or the rotation token.
//
// This file is the protocol, read top to bottom; calls.go has the calls
// it makes and its small helpers.
package rotation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/shared/intercom"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// The steps Secrets Manager invokes a rotation function with.
const (
	StepCreate = "createSecret"
	StepSet    = "setSecret"
	StepTest   = "testSecret"
	StepFinish = "finishSecret"
)

// Steps lists the steps in the order Secrets Manager runs them.
func Steps() []string { return []string{StepCreate, StepSet, StepTest, StepFinish} }

// The staging labels of the rotation protocol.
const (
	stageCurrent  = "AWSCURRENT"
	stagePending  = "AWSPENDING"
	stagePrevious = "AWSPREVIOUS"
)

// SecretsManagerAPI is the Secrets Manager client the rotation needs: the
// four actions the function's IAM policy allows on the platform secrets
// (GetSecretValue also on the token's). *secretsmanager.Client satisfies it.
type SecretsManagerAPI interface {
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	UpdateSecretVersionStage(context.Context, *secretsmanager.UpdateSecretVersionStageInput, ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

var _ SecretsManagerAPI = (*secretsmanager.Client)(nil)

// Config says which secrets are rotated and how to reach Intercom.
type Config struct {
	// Secrets maps each platform to its secret's ARN (or name); an event
	// for a secret not here is refused.
	Secrets map[platform.Platform]string
	// IntercomToken names the secret holding the Intercom access token.
	IntercomToken secrets.Ref
	// IntercomAPIURL is the API's base URL (intercom.DefaultBaseURL, a
	// regional host, or a test server).
	IntercomAPIURL string
	// RetireAfter is how long a secret must have been out of use before
	// its Intercom secret is deleted: RetireAfter(SECRET_CACHE_TTL,
	// SECRET_MAX_STALE, USER_JWT_TTL). 0 means DefaultRetireAfter.
	RetireAfter time.Duration
}

// RetireAfter is how long the user-hash function may still use a secret
// after it stops being current: a cache holds it for its TTL plus jitter,
// serves it stale for up to maxStale more while Secrets Manager fails, and
// a JWT signed with it in the last moment lives jwtTTL.
func RetireAfter(cacheTTL, maxStale, jwtTTL time.Duration) time.Duration {
	return cacheTTL + time.Duration(float64(cacheTTL)*secrets.DefaultJitter) + maxStale + jwtTTL
}

// DefaultRetireAfter is RetireAfter of the user-hash function's defaults
// (5m, 1h, 1h): 2h5m30s.
var DefaultRetireAfter = RetireAfter(5*time.Minute, time.Hour, time.Hour)

// endReserve is kept back from the invocation's deadline so that a call
// that runs out of time still leaves time to log and return.
const endReserve = 500 * time.Millisecond

// Rotator runs the rotation steps. It is safe for concurrent use; make one
// per execution environment.
type Rotator struct {
	sm          SecretsManagerAPI
	cfg         Config
	log         *slog.Logger
	callTimeout time.Duration
	now         func() time.Time
}

// Option configures a Rotator.
type Option func(*Rotator)

// WithLogger sets where the steps are logged; the default is slog.Default().
func WithLogger(l *slog.Logger) Option {
	return func(r *Rotator) {
		if l != nil {
			r.log = l
		}
	}
}

// WithCallTimeout bounds each call to Secrets Manager and Intercom; the
// invocation's deadline bounds it too. Values <= 0 leave the default,
// intercom.DefaultCallTimeout.
func WithCallTimeout(d time.Duration) Option {
	return func(r *Rotator) {
		if d > 0 {
			r.callTimeout = d
		}
	}
}

// WithClock sets the clock that judges how long a secret has been out of
// use (time.Now otherwise); tests move it forward.
func WithClock(now func() time.Time) Option {
	return func(r *Rotator) {
		if now != nil {
			r.now = now
		}
	}
}

// New returns a Rotator that calls Secrets Manager with sm.
func New(sm SecretsManagerAPI, cfg Config, opts ...Option) *Rotator {
	if cfg.RetireAfter <= 0 {
		cfg.RetireAfter = DefaultRetireAfter
	}
	r := &Rotator{sm: sm, cfg: cfg, log: slog.Default(), callTimeout: intercom.DefaultCallTimeout, now: time.Now}
	for _, o := range opts {
		o(r)
	}
	return r
}

// StepError is a failed step. Its text names the step, the platform and
// the cause (for Intercom, the HTTP status and error code), never a value.
type StepError struct {
	Step     string
	Platform platform.Platform // 0 when the secret was not recognised
	Err      error
}

func (e *StepError) Error() string {
	if e.Platform.Valid() {
		return fmt.Sprintf("%s for the %s secret: %v", e.Step, e.Platform, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Step, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// run is one step of one rotation, as the event describes it.
type run struct {
	step     string
	secretID string // the event's SecretId: the secret's ARN
	name     string // the secret's name, from DescribeSecret
	version  string // the event's ClientRequestToken: the new version's id
	rotTok   string // the event's RotationToken; sensitive, never logged
	platform platform.Platform
	stages   map[string][]string // version id -> staging labels
	done     []slog.Attr         // what the step did, for its log line
}

// Handle runs the step the event names. It returns nil when the step is
// done (now or by an earlier invocation), and a *StepError otherwise, which
// makes Secrets Manager retry the rotation.
func (r *Rotator) Handle(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
	start := time.Now()
	ru := &run{step: ev.Step, secretID: ev.SecretID, version: ev.ClientRequestToken, rotTok: ev.RotationToken}
	stepCtx := ctx
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		stepCtx, cancel = context.WithDeadline(ctx, d.Add(-endReserve))
		defer cancel()
	}
	err := r.handle(stepCtx, ru)
	attrs := []slog.Attr{
		slog.String("step", fmt.Sprintf("%.40s", ru.step)),
		slog.String("platform", ru.platform.String()),
		slog.String("secret_id", ru.secretID),
		slog.String("version_id", ru.version),
		slog.Int64("duration_ms", time.Since(start).Milliseconds()),
	}
	if err == nil {
		r.log.LogAttrs(ctx, slog.LevelInfo, "rotation step done", append(attrs, ru.done...)...)
		return nil
	}
	attrs = append(attrs, errorAttrs(err)...)
	r.log.LogAttrs(ctx, slog.LevelError, "rotation step failed", attrs...)
	return &StepError{Step: ru.step, Platform: ru.platform, Err: err}
}

func (r *Rotator) handle(ctx context.Context, ru *run) error {
	if !slices.Contains(Steps(), ru.step) {
		return fmt.Errorf("unknown step %.40q; Secrets Manager sends %s", ru.step, strings.Join(Steps(), ", "))
	}
	if ru.secretID == "" {
		return errors.New("the event has no SecretId")
	}
	if !validToken(ru.version) {
		return errors.New("the event's ClientRequestToken is not a version id (32 to 64 letters, digits and dashes)")
	}
	// The platform, for the log line, even if DescribeSecret fails; the
	// template gives the same ARNs as the events carry.
	ru.platform = r.platformOf(ru.secretID)
	ready, err := r.begin(ctx, ru)
	if err != nil || !ready {
		return err
	}
	if ru.step == StepSet {
		// Intercom has the secret since createSecret: there is nothing to
		// set. The step still checked the version's stages above.
		ru.done = append(ru.done, slog.String("result", "nothing to set: the secret is live in Intercom since createSecret"))
		return nil
	}
	ic, err := r.intercomClient(ctx)
	if err != nil {
		return err
	}
	switch ru.step {
	case StepCreate:
		return r.createSecret(ctx, ru, ic)
	case StepTest:
		return r.testSecret(ctx, ru, ic)
	default:
		return r.finishSecret(ctx, ru, ic)
	}
}

// begin checks the rotation's state as Secrets Manager documents it: the
// secret is one of ours with rotation on, the token is one of its versions,
// and that version is AWSPENDING. It reports false, with no error, when
// the version is already AWSCURRENT: the rotation is done.
func (r *Rotator) begin(ctx context.Context, ru *run) (bool, error) {
	cctx, cancel := r.bound(ctx)
	desc, err := r.sm.DescribeSecret(cctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(ru.secretID)})
	cancel()
	if err != nil {
		return false, fmt.Errorf("DescribeSecret: %w", err)
	}
	ru.name = aws.ToString(desc.Name)
	if !ru.platform.Valid() {
		// Configured by name, or by the other of name and ARN.
		if ru.platform = r.platformOf(aws.ToString(desc.ARN)); !ru.platform.Valid() {
			ru.platform = r.platformOf(ru.name)
		}
	}
	switch {
	case !ru.platform.Valid():
		return false, fmt.Errorf("secret %s is none of the platform secrets this function rotates (IOS_SECRET_ID, ANDROID_SECRET_ID, WEB_SECRET_ID)", ru.secretID)
	case !aws.ToBool(desc.RotationEnabled):
		return false, fmt.Errorf("rotation is not enabled for secret %s", ru.secretID)
	}
	ru.stages = desc.VersionIdsToStages
	stages, ok := ru.stages[ru.version]
	switch {
	case !ok:
		return false, fmt.Errorf("version %s is not a version of the secret, or has no staging label", ru.version)
	case slices.Contains(stages, stageCurrent):
		ru.done = append(ru.done, slog.String("result", "the version is already AWSCURRENT"))
		if ru.step == StepFinish && slices.Contains(stages, stagePending) {
			// An earlier finishSecret moved AWSCURRENT and failed before it
			// could take AWSPENDING off; finish its work.
			return false, r.unlabelPending(ctx, ru)
		}
		return false, nil
	case !slices.Contains(stages, stagePending):
		return false, fmt.Errorf("version %s is not AWSPENDING (its labels: %s)", ru.version, strings.Join(stages, ", "))
	}
	return true, nil
}

// minSecretLen is the shortest secret testSecret accepts: Intercom's are
// 256 random bits, 43 characters of base64url.
const minSecretLen = 32

// createSecret makes the new version: a secret for the platform in
// Intercom, stored with its id as the AWSPENDING version. Its three moves:
// check that there is something to create, clear what an earlier attempt
// made but did not store, create and store.
func (r *Rotator) createSecret(ctx context.Context, ru *run, ic *intercom.Client) error {
	if done, err := r.checkCreate(ctx, ru); done || err != nil {
		return err
	}
	name := intercomName(ru.platform, ru.name, ru.version)
	if err := r.clearUnstored(ctx, ru, ic, name); err != nil {
		return err
	}
	return r.createAndStore(ctx, ru, ic, name)
}

// checkCreate reports whether the AWSPENDING version is stored already
// (done), and refuses to replace a value that is not this platform's
// secret alone: a JSON object of another shape is a shared secret whose
// other fields the new value would wipe out.
func (r *Rotator) checkCreate(ctx context.Context, ru *run) (done bool, err error) {
	cur, err := r.getValue(ctx, ru, "", stageCurrent)
	switch {
	case notFound(err):
		ru.done = append(ru.done, slog.Bool("first_value", true))
	case err != nil:
		return false, fmt.Errorf("read the AWSCURRENT version: %w", err)
	default:
		if _, ok, _ := secrets.ParseRotated(aws.ToString(cur.SecretString)); !ok && isJSONObject(aws.ToString(cur.SecretString)) {
			return false, errors.New("the AWSCURRENT value is a JSON object, not a rotated value: rotation replaces the whole value and would wipe out its other fields; give the platform a secret of its own")
		}
	}

	pending, err := r.getValue(ctx, ru, ru.version, stagePending)
	switch {
	case err == nil:
		v, ok, perr := secrets.ParseRotated(aws.ToString(pending.SecretString))
		if !ok || perr != nil {
			return false, fmt.Errorf("the AWSPENDING version %s already holds a value this function did not write; take AWSPENDING off it and rotate again", ru.version)
		}
		ru.done = append(ru.done, slog.String("result", "already created"), slog.String("intercom_secret_id", v.IntercomSecretID))
		return true, nil
	case !notFound(err):
		return false, fmt.Errorf("read the AWSPENDING version: %w", err)
	}
	return false, nil
}

// clearUnstored looks before creating: a secret with this version's name
// was made by an earlier attempt whose value never reached Secrets Manager
// (the create's answer was lost, or PutSecretValue failed). Its secret is
// known to nobody: delete it, so that a new one is made.
func (r *Rotator) clearUnstored(ctx context.Context, ru *run, ic *intercom.Client, name string) error {
	list, err := ic.ListSecrets(ctx)
	if err != nil {
		return err
	}
	for _, s := range list {
		if s.Name != name {
			continue
		}
		if err := deleteSecret(ctx, ic, s.ID); err != nil {
			return fmt.Errorf("delete the secret %s an earlier attempt made but did not store: %w", s.ID, err)
		}
		r.log.LogAttrs(ctx, slog.LevelWarn, "deleted the Intercom secret an earlier attempt made but did not store",
			slog.String("step", ru.step), slog.String("platform", ru.platform.String()),
			slog.String("version_id", ru.version), slog.String("intercom_secret_id", s.ID))
	}
	return nil
}

// createAndStore creates the secret in Intercom and stores it with its id
// as the AWSPENDING version.
func (r *Rotator) createAndStore(ctx context.Context, ru *run, ic *intercom.Client, name string) error {
	created, err := ic.CreateSecret(ctx, name, ru.platform)
	if err != nil {
		return err
	}
	value, err := secrets.RotatedValue{Secret: string(created.Secret), IntercomSecretID: created.ID}.Marshal()
	if err != nil {
		return err
	}
	in := &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(ru.secretID),
		ClientRequestToken: aws.String(ru.version),
		SecretString:       aws.String(value),
		VersionStages:      []string{stagePending},
	}
	if ru.rotTok != "" {
		// Secrets Manager checks it when the function acts through an
		// assumed role or across accounts; harmless otherwise.
		in.RotationToken = aws.String(ru.rotTok)
	}
	if err := r.putValue(ctx, in); err != nil {
		return r.putFailed(ctx, ru, ic, created.ID, err)
	}
	ru.done = append(ru.done, slog.String("result", "created"), slog.String("intercom_secret_id", created.ID))
	return nil
}

// putFailed handles a PutSecretValue that failed after Intercom made the
// secret. If the value did land (only the answer was lost) the step is
// done; if it surely did not, the secret is deleted at once rather than
// left to the retry; if that cannot be known, the retry's look before
// creating finds it by name.
func (r *Rotator) putFailed(ctx context.Context, ru *run, ic *intercom.Client, createdID string, putErr error) error {
	got, err := r.getValue(ctx, ru, ru.version, stagePending)
	if err == nil {
		if v, ok, perr := secrets.ParseRotated(aws.ToString(got.SecretString)); ok && perr == nil && v.IntercomSecretID == createdID {
			ru.done = append(ru.done, slog.String("result", "created"), slog.String("intercom_secret_id", createdID))
			return nil
		}
	}
	if notFound(err) {
		if derr := deleteSecret(ctx, ic, createdID); derr == nil {
			return fmt.Errorf("store the new version (its Intercom secret %s is deleted again): %w", createdID, putErr)
		}
	}
	return fmt.Errorf("store the new version (its Intercom secret %s is deleted by the next attempt): %w", createdID, putErr)
}

// testSecret checks that Intercom lists the new secret for the platform.
//
// Secrets Manager also calls it alone, to test a rotation configuration
// that does not rotate at once (RotateImmediately false, as the template
// sets it): then the AWSPENDING version was not made by createSecret, and
// holds no value or a copy of a current value. (In a rotation, createSecret
// refuses such a version, so testSecret never meets one.) Such a test
// passes when the access token can be read and Intercom answers with it,
// which is what a configuration can get wrong; it changes nothing, and
// finishSecret still refuses a version createSecret did not make.
func (r *Rotator) testSecret(ctx context.Context, ru *run, ic *intercom.Client) error {
	v, err := r.pendingValue(ctx, ru)
	if errors.Is(err, errNotCreated) {
		if _, err := ic.ListSecrets(ctx); err != nil {
			return err
		}
		ru.done = append(ru.done, slog.String("result", "configuration test: the access token reads Intercom's secrets"))
		return nil
	}
	if err != nil {
		return err
	}
	if len(v.Secret) < minSecretLen {
		return fmt.Errorf("the new secret is %d characters long; Intercom's are 256-bit, 43 characters", len(v.Secret))
	}
	list, err := ic.ListSecrets(ctx)
	if err != nil {
		return err
	}
	for _, s := range list {
		if s.ID != v.IntercomSecretID {
			continue
		}
		if !s.Supports(ru.platform) {
			return fmt.Errorf("Intercom secret %s is not enabled for %s", s.ID, ru.platform)
		}
		ru.done = append(ru.done, slog.String("result", "Intercom lists the new secret"), slog.String("intercom_secret_id", s.ID))
		return nil
	}
	return fmt.Errorf("Intercom does not list the new secret %s", v.IntercomSecretID)
}

// finishSecret retires the secret of the AWSPREVIOUS version, two
// rotations old, and makes the new version AWSCURRENT. The retiring comes
// first: once AWSCURRENT moves, the version that was AWSPREVIOUS has no
// label left, DescribeSecret no longer shows it, and a retry after a
// failure in between could never find its Intercom secret again. (Either
// way that secret has not been current since the last rotation.)
func (r *Rotator) finishSecret(ctx context.Context, ru *run, ic *intercom.Client) error {
	newValue, err := r.pendingValue(ctx, ru)
	if err != nil {
		return err
	}
	var current, previous string
	for id, stages := range ru.stages {
		switch {
		case id == ru.version:
		case slices.Contains(stages, stageCurrent):
			current = id
		case slices.Contains(stages, stagePrevious):
			previous = id
		}
	}
	list, err := ic.ListSecrets(ctx)
	if err != nil {
		return err
	}
	// A create whose answer was lost may have landed after the retry made
	// the secret that was stored: such strays carry the new version's name
	// but no one knows their secret.
	if err := r.deleteNamed(ctx, ru, ic, list, intercomName(ru.platform, ru.name, ru.version), newValue.IntercomSecretID); err != nil {
		return err
	}
	// The current version's date is when the previous one went out of
	// use: versions become current moments after they are made.
	var cur *secretsmanager.GetSecretValueOutput
	if current != "" {
		cur, err = r.getValue(ctx, ru, current, stageCurrent)
		if notFound(err) {
			cur, err = nil, nil
		}
		if err != nil {
			return fmt.Errorf("read the AWSCURRENT version: %w", err)
		}
	}
	if previous != "" {
		if err := r.retire(ctx, ru, ic, list, previous, cur, newValue); err != nil {
			return err
		}
	}
	if err := r.sweep(ctx, ru, ic, list, current, previous, cur, newValue); err != nil {
		return err
	}

	move := &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(ru.secretID), VersionStage: aws.String(stageCurrent), MoveToVersionId: aws.String(ru.version),
	}
	if current != "" {
		// The version leaving AWSCURRENT is in use until the move: its
		// label says since when it is not, so that a later rotation judges
		// its secret from this moment, not from when the new version was
		// made (a finishSecret retried for hours moves it hours later).
		if err := r.markRetiring(ctx, ru, current); err != nil {
			return err
		}
		move.RemoveFromVersionId = aws.String(current)
	}
	if err := r.updateStage(ctx, move); err != nil {
		return fmt.Errorf("move AWSCURRENT to the new version: %w", err)
	}
	ru.done = append(ru.done, slog.String("result", "the new version is AWSCURRENT"), slog.String("intercom_secret_id", newValue.IntercomSecretID))
	return r.unlabelPending(ctx, ru)
}

// unlabelPending takes AWSPENDING off the new version once it is current,
// as Secrets Manager's own rotation functions do.
func (r *Rotator) unlabelPending(ctx context.Context, ru *run) error {
	err := r.updateStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(ru.secretID), VersionStage: aws.String(stagePending), RemoveFromVersionId: aws.String(ru.version),
	})
	if err != nil {
		return fmt.Errorf("take AWSPENDING off the new version: %w", err)
	}
	return nil
}

// retire deletes in Intercom the secrets this function made for version
// previous: the one its value records, and any stray of a lost create,
// known by the name given to that version alone. A secret the value
// records under another name was not made here (pasted from another
// stack, or made by hand) and is kept, as is the secret of a value put in
// by hand, and one still recorded by the current or new version. One that
// has been out of use for less than RetireAfter (cur's date says since
// when) may still be in a cache or a JWT: it is kept, and its version
// labelled, so that a later finishSecret deletes it (sweep).
func (r *Rotator) retire(ctx context.Context, ru *run, ic *intercom.Client, list []intercom.Secret, previous string, cur *secretsmanager.GetSecretValueOutput, newValue secrets.RotatedValue) error {
	prev, err := r.getValue(ctx, ru, previous, stagePrevious)
	if notFound(err) {
		return nil // a version with no value has no Intercom secret
	}
	if err != nil {
		return fmt.Errorf("read the AWSPREVIOUS version: %w", err)
	}
	old, ok, perr := secrets.ParseRotated(aws.ToString(prev.SecretString))
	if !ok || perr != nil {
		ru.done = append(ru.done, slog.String("retired", "none: the AWSPREVIOUS value was not made by rotation; its Intercom secret is yours to delete"))
		return nil
	}
	keep := func(why string) error {
		r.log.LogAttrs(ctx, slog.LevelWarn, "the Intercom secret of the AWSPREVIOUS version is kept: "+why+"; delete it in Intercom's settings once no hash or JWT made with it is in use",
			slog.String("step", ru.step), slog.String("platform", ru.platform.String()),
			slog.String("version_id", previous), slog.String("intercom_secret_id", old.IntercomSecretID))
		return nil
	}
	if old.IntercomSecretID == newValue.IntercomSecretID {
		return keep("the new version records the same Intercom secret")
	}
	if cur == nil {
		return keep("there is no AWSCURRENT version to say since when it is out of use")
	}
	if c, ok, _ := secrets.ParseRotated(aws.ToString(cur.SecretString)); ok && c.IntercomSecretID == old.IntercomSecretID {
		return keep("the AWSCURRENT version records the same Intercom secret")
	}
	// Versions become current in the order they are made. An
	// AWSPREVIOUS newer than AWSCURRENT means AWSCURRENT was moved
	// back by hand (a rollback), perhaps moments ago: the secret
	// it left may be in caches and JWTs right now.
	if aws.ToTime(prev.CreatedDate).After(aws.ToTime(cur.CreatedDate)) {
		return keep("AWSPREVIOUS is newer than AWSCURRENT, so AWSCURRENT was moved back by hand, and this secret may still be in use")
	}
	want := intercomName(ru.platform, ru.name, previous)
	for _, s := range list {
		if s.ID == old.IntercomSecretID && s.Name != want {
			return keep(fmt.Sprintf("its name in Intercom is not %q, the one this function gives that version, so this function did not make it", want))
		}
	}
	// Out of use since the move that made it AWSPREVIOUS, which labelled
	// it; a version moved before that label existed is judged from the
	// current version's date, moments before its own move.
	since := aws.ToTime(cur.CreatedDate)
	labelled := false
	for _, l := range ru.stages[previous] {
		if t, ok := retiringSince(l, previous); ok {
			labelled = true
			if t.After(since) {
				since = t
			}
		}
	}
	if out := r.now().Sub(since); out < r.cfg.RetireAfter {
		label := retiringLabel(since, previous)
		if !labelled {
			err := r.updateStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
				SecretId: aws.String(ru.secretID), VersionStage: aws.String(label), MoveToVersionId: aws.String(previous),
			})
			if err != nil {
				return fmt.Errorf("label the AWSPREVIOUS version %s: %w", label, err)
			}
		}
		r.log.LogAttrs(ctx, slog.LevelWarn, "the Intercom secret of the AWSPREVIOUS version is kept for now: caches and JWTs may still use it; a later rotation deletes it",
			slog.String("step", ru.step), slog.String("platform", ru.platform.String()),
			slog.String("version_id", previous), slog.String("intercom_secret_id", old.IntercomSecretID),
			slog.Duration("out_of_use_for", out.Round(time.Second)), slog.Duration("retire_after", r.cfg.RetireAfter), slog.String("label", label))
		ru.done = append(ru.done, slog.String("retiring_intercom_secret_id", old.IntercomSecretID))
		return nil
	}
	if err := r.deleteNamed(ctx, ru, ic, list, want, ""); err != nil {
		return err
	}
	if err := r.unlabelRetiring(ctx, ru, previous, ""); err != nil {
		return err
	}
	ru.done = append(ru.done, slog.String("retired_intercom_secret_id", old.IntercomSecretID), slog.String("retired_version_id", previous))
	return nil
}

// markRetiring labels version, about to leave AWSCURRENT, with the moment
// it goes out of use, in place of any such label an earlier try left.
func (r *Rotator) markRetiring(ctx context.Context, ru *run, version string) error {
	label := retiringLabel(r.now(), version)
	err := r.updateStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(ru.secretID), VersionStage: aws.String(label), MoveToVersionId: aws.String(version),
	})
	if err != nil {
		return fmt.Errorf("label the AWSCURRENT version %s: %w", label, err)
	}
	return r.unlabelRetiring(ctx, ru, version, label)
}

// unlabelRetiring takes version's retiring labels off, but keep.
func (r *Rotator) unlabelRetiring(ctx context.Context, ru *run, version, keep string) error {
	for _, l := range ru.stages[version] {
		if _, ok := retiringSince(l, version); !ok || l == keep {
			continue
		}
		err := r.updateStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(ru.secretID), VersionStage: aws.String(l), RemoveFromVersionId: aws.String(version),
		})
		if err != nil {
			return fmt.Errorf("take %s off version %s: %w", l, version, err)
		}
	}
	return nil
}

// sweep deletes the Intercom secrets that retire kept in earlier
// rotations once they have been out of use for RetireAfter, and takes
// their label off; younger ones wait for a later rotation. A secret the
// current or new version still records is not deleted.
func (r *Rotator) sweep(ctx context.Context, ru *run, ic *intercom.Client, list []intercom.Secret, current, previous string, cur *secretsmanager.GetSecretValueOutput, newValue secrets.RotatedValue) error {
	var curID string
	if cur != nil {
		if c, ok, _ := secrets.ParseRotated(aws.ToString(cur.SecretString)); ok {
			curID = c.IntercomSecretID
		}
	}
	for id, stages := range ru.stages {
		if id == ru.version || id == current || id == previous {
			continue
		}
		for _, label := range stages {
			since, ok := retiringSince(label, id)
			if !ok {
				continue
			}
			if r.now().Sub(since) < r.cfg.RetireAfter {
				ru.done = append(ru.done, slog.String("still_retiring_version_id", id))
				continue
			}
			v, err := r.getValue(ctx, ru, id, label)
			if err != nil && !notFound(err) {
				return fmt.Errorf("read the retiring version %s: %w", id, err)
			}
			if err == nil {
				if old, ok, _ := secrets.ParseRotated(aws.ToString(v.SecretString)); ok && old.IntercomSecretID != newValue.IntercomSecretID && old.IntercomSecretID != curID {
					if err := r.deleteNamed(ctx, ru, ic, list, intercomName(ru.platform, ru.name, id), ""); err != nil {
						return err
					}
					ru.done = append(ru.done, slog.String("retired_intercom_secret_id", old.IntercomSecretID), slog.String("retired_version_id", id))
				}
			}
			err = r.updateStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
				SecretId: aws.String(ru.secretID), VersionStage: aws.String(label), RemoveFromVersionId: aws.String(id),
			})
			if err != nil {
				return fmt.Errorf("take %s off the retired version: %w", label, err)
			}
		}
	}
	return nil
}
