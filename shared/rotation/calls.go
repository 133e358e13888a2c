// The calls the protocol in rotation.go makes, and its small helpers.
// Every call has one bound: a Secrets Manager call the rotator's call
// timeout (bound), an Intercom call the client's own, which New sets to
// the same; Handle has already kept a reserve back from the invocation's
// deadline for both.

package rotation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/intercom-identity/userhash/shared/intercom"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// platformOf returns the platform whose configured secret is id, or 0.
func (r *Rotator) platformOf(id string) platform.Platform {
	for p, sid := range r.cfg.Secrets {
		if id != "" && sid == id {
			return p
		}
	}
	return 0
}

// bound returns a context for one Secrets Manager call.
func (r *Rotator) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.callTimeout)
}

// intercomClient reads the access token (each invocation, so that a
// replaced token is used at once) and returns a client with it.
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
	c, err := intercom.New(r.cfg.IntercomAPIURL, strings.TrimSpace(string(tok)), intercom.WithCallTimeout(r.callTimeout))
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
	return fmt.Sprintf("AWS Secrets Manager %s %.64s %s", p, secretName, versionID)
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

// retiringPrefix starts the label of a version whose Intercom secret was
// kept because it had not been out of use for long enough.
const retiringPrefix = "intercom-retiring-"

// retiringLabel is the label of version, out of use since since. The
// version id makes it unique, as a label must be within a secret.
func retiringLabel(since time.Time, version string) string {
	return fmt.Sprintf("%s%d-%s", retiringPrefix, since.Unix(), version)
}

// retiringSince reads retiringLabel's label of version; false for any
// other label.
func retiringSince(label, version string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(label, retiringPrefix)
	if !ok {
		return time.Time{}, false
	}
	secs, v, ok := strings.Cut(rest, "-")
	n, err := strconv.ParseInt(secs, 10, 64)
	if !ok || err != nil || v != version {
		return time.Time{}, false
	}
	// The label keeps whole seconds: round up, never making a secret
	// look longer out of use than it is.
	return time.Unix(n, 0).Add(time.Second), true
}

// deleteNamed deletes every listed secret named name, except keepID.
func (r *Rotator) deleteNamed(ctx context.Context, ru *run, ic *intercom.Client, list []intercom.Secret, name, keepID string) error {
	for _, s := range list {
		if s.Name != name || s.ID == keepID {
			continue
		}
		if err := deleteSecret(ctx, ic, s.ID); err != nil {
			return fmt.Errorf("delete the Intercom secret %s: %w", s.ID, err)
		}
		if keepID != "" {
			r.log.LogAttrs(ctx, slog.LevelWarn, "deleted a stray Intercom secret of the new version, made by a create whose answer was lost",
				slog.String("step", ru.step), slog.String("platform", ru.platform.String()),
				slog.String("version_id", ru.version), slog.String("intercom_secret_id", s.ID))
		}
	}
	return nil
}

// errNotCreated is pendingValue's error for an AWSPENDING version that
// createSecret did not make: it has no value, or one of another shape.
var errNotCreated = errors.New("the AWSPENDING version was not made by createSecret")

// pendingValue reads the new version's value, which must be a rotated value.
func (r *Rotator) pendingValue(ctx context.Context, ru *run) (secrets.RotatedValue, error) {
	out, err := r.getValue(ctx, ru, ru.version, stagePending)
	if notFound(err) {
		return secrets.RotatedValue{}, fmt.Errorf("%w: it has no value", errNotCreated)
	}
	if err != nil {
		return secrets.RotatedValue{}, fmt.Errorf("read the AWSPENDING version: %w", err)
	}
	v, ok, perr := secrets.ParseRotated(aws.ToString(out.SecretString))
	switch {
	case perr != nil:
		return secrets.RotatedValue{}, fmt.Errorf("the AWSPENDING version: %w", perr)
	case !ok:
		return secrets.RotatedValue{}, fmt.Errorf("%w: its value is not a rotated value ({\"secret\", \"intercom_secret_id\"})", errNotCreated)
	}
	return v, nil
}

// getValue reads one version of the rotated secret, named by id and stage
// (id "" for the version the stage is on). It always names a stage: the
// stage is what the protocol is about, and the answer then never depends
// on which version an endpoint takes for the default.
func (r *Rotator) getValue(ctx context.Context, ru *run, versionID, stage string) (*secretsmanager.GetSecretValueOutput, error) {
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(ru.secretID), VersionStage: aws.String(stage)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	cctx, cancel := r.bound(ctx)
	defer cancel()
	return r.sm.GetSecretValue(cctx, in)
}

// putValue stores a version's value.
func (r *Rotator) putValue(ctx context.Context, in *secretsmanager.PutSecretValueInput) error {
	cctx, cancel := r.bound(ctx)
	defer cancel()
	_, err := r.sm.PutSecretValue(cctx, in)
	return err
}

// updateStage moves or removes a staging label.
func (r *Rotator) updateStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput) error {
	cctx, cancel := r.bound(ctx)
	defer cancel()
	_, err := r.sm.UpdateSecretVersionStage(cctx, in)
	return err
}

// deleteSecret deletes an Intercom secret; one that is gone already is
// deleted.
func deleteSecret(ctx context.Context, ic *intercom.Client, id string) error {
	if err := ic.DeleteSecret(ctx, id); err != nil && !errors.Is(err, intercom.ErrNotFound) {
		return err
	}
	return nil
}

// isJSONObject reports whether s is a JSON object, as the user-hash
// function's ID#key reads one.
func isJSONObject(s string) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal([]byte(s), &m) == nil
}
