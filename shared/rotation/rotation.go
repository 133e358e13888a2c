// Package rotation is the Secrets Manager rotation function of SPEC §9: it
// rotates a platform's Intercom identity-verification secret through
// Intercom's secure_mode_secrets API, so that old and new secrets verify
// side by side while every cache and issued JWT moves over.
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
// later finishSecret deletes it once old enough. Every step may run again without harm: each first checks the
// version's stages as Secrets Manager documents (a version already
// AWSCURRENT is done), a createSecret looks in Intercom before it creates,
// and deletes only a secret this function made for that very version.
// Nothing here logs a secret, the access token or the rotation token.
package rotation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

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

// The defaults.
const (
	// DefaultCallTimeout bounds each call to Secrets Manager or Intercom.
	DefaultCallTimeout = 5 * time.Second
	// endReserve is kept back from the invocation's deadline so that a
	// call that runs out of time still leaves time to log and return.
	endReserve = 500 * time.Millisecond
)

// Rotator runs the rotation steps. It is safe for concurrent use; make one
// per execution environment.
type Rotator struct {
	sm          SecretsManagerAPI
	cfg         Config
	log         *slog.Logger
	http        *http.Client
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

// WithHTTPClient sets the HTTP client for Intercom.
func WithHTTPClient(hc *http.Client) Option {
	return func(r *Rotator) {
		if hc != nil {
			r.http = hc
		}
	}
}

// WithCallTimeout bounds each call to Secrets Manager and Intercom; the
// invocation's deadline bounds it too. Values <= 0 leave the default.
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
	r := &Rotator{sm: sm, cfg: cfg, log: slog.Default(), http: &http.Client{}, callTimeout: DefaultCallTimeout, now: time.Now}
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
	err := r.handle(ctx, ru)
	attrs := []slog.Attr{
		slog.String("step", clip(ru.step, 40)),
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
		return fmt.Errorf("unknown step %q; Secrets Manager sends %s", clip(ru.step, 40), strings.Join(Steps(), ", "))
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
	switch ru.step {
	case StepCreate:
		return r.createSecret(ctx, ru)
	case StepSet:
		// Intercom has the secret since createSecret: there is nothing to
		// set. The step still checked the version's stages above.
		ru.done = append(ru.done, slog.String("result", "nothing to set: the secret is live in Intercom since createSecret"))
		return nil
	case StepTest:
		return r.testSecret(ctx, ru)
	default:
		return r.finishSecret(ctx, ru)
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

// platformOf returns the platform whose configured secret is id, or 0.
func (r *Rotator) platformOf(id string) platform.Platform {
	for p, sid := range r.cfg.Secrets {
		if id != "" && sid == id {
			return p
		}
	}
	return 0
}

// bound returns a context for one call: the call timeout, or the
// invocation's deadline less a reserve, whichever is sooner.
func (r *Rotator) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(r.callTimeout)
	if d, ok := ctx.Deadline(); ok && d.Add(-endReserve).Before(deadline) {
		deadline = d.Add(-endReserve)
	}
	return context.WithDeadline(ctx, deadline)
}

// intercomClient reads the access token (each step, so that a replaced
// token is used at once) and returns a client with it.
func (r *Rotator) intercomClient(ctx context.Context) (*intercom.Client, error) {
	cctx, cancel := r.bound(ctx)
	defer cancel()
	out, err := r.sm.GetSecretValue(cctx, &secretsmanager.GetSecretValueInput{
		SecretId: aws.String(r.cfg.IntercomToken.ID), VersionStage: aws.String(stageCurrent),
	})
	if err != nil {
		return nil, fmt.Errorf("read the Intercom access token (INTERCOM_TOKEN_SECRET_ID): %w", err)
	}
	tok, err := secrets.ValueOf(out, r.cfg.IntercomToken.Key)
	if err != nil {
		return nil, fmt.Errorf("the Intercom access token (INTERCOM_TOKEN_SECRET_ID): %w", err)
	}
	c, err := intercom.New(r.cfg.IntercomAPIURL, strings.TrimSpace(string(tok)),
		intercom.WithHTTPClient(r.http), intercom.WithCallTimeout(r.callTimeout))
	if err != nil {
		return nil, fmt.Errorf("the Intercom access token (INTERCOM_TOKEN_SECRET_ID): %w", err)
	}
	return c, nil
}

// intercomName is the name of the Intercom secret made for one version of
// a secret: the version id makes it unique, so that a retried createSecret
// finds what an earlier attempt made and nothing else, and the rest tells
// a person in Intercom's settings where it comes from.
func intercomName(p platform.Platform, secretName, versionID string) string {
	return fmt.Sprintf("AWS Secrets Manager %s %s %s", p, clip(secretName, 64), versionID)
}

// validToken reports whether t can be a version id: Secrets Manager's are
// UUIDs, and this one goes into a name sent to Intercom.
func validToken(t string) bool {
	if len(t) < 32 || len(t) > 64 {
		return false
	}
	for _, c := range t {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// errorAttrs are the log fields that say why a step failed: Intercom's
// status, code and request id, or the AWS error code.
func errorAttrs(err error) []slog.Attr {
	attrs := []slog.Attr{slog.String("error", err.Error())}
	var ae *intercom.APIError
	var api smithy.APIError
	switch {
	case errors.As(err, &ae):
		attrs = append(attrs, slog.Int("intercom_status", ae.Status))
		if ae.Code != "" {
			attrs = append(attrs, slog.String("intercom_code", ae.Code))
		}
		if ae.RequestID != "" {
			attrs = append(attrs, slog.String("intercom_request_id", ae.RequestID))
		}
		if errors.Is(err, context.DeadlineExceeded) {
			attrs = append(attrs, slog.Bool("timeout", true))
		}
	case errors.As(err, &api):
		attrs = append(attrs, slog.String("aws_error", api.ErrorCode()))
	}
	return attrs
}

// notFound reports whether err is Secrets Manager's "no such secret value".
func notFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}

// clip shortens s to at most n bytes for a name or a log line.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
