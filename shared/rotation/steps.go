// The steps that change something: createSecret, testSecret and
// finishSecret. Each is written to be run again after failing at any
// point, or after succeeding.

package rotation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/shared/intercom"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// minSecretLen is the shortest secret testSecret accepts: Intercom's are
// 256 random bits, 43 characters of base64url.
const minSecretLen = 32

// createSecret makes the new version: a secret for the platform in
// Intercom, stored with its id as the AWSPENDING version.
func (r *Rotator) createSecret(ctx context.Context, ru *run) error {
	// The value being replaced must be this platform's secret alone: a
	// JSON object of another shape is a shared secret whose other fields
	// the new value would wipe out.
	cur, err := r.getValue(ctx, ru, "", stageCurrent)
	switch {
	case notFound(err):
		ru.done = append(ru.done, slog.Bool("first_value", true))
	case err != nil:
		return fmt.Errorf("read the AWSCURRENT version: %w", err)
	default:
		if _, ok, _ := secrets.ParseRotated(aws.ToString(cur.SecretString)); !ok && isJSONObject(aws.ToString(cur.SecretString)) {
			return errors.New("the AWSCURRENT value is a JSON object, not a rotated value: rotation replaces the whole value and would wipe out its other fields; give the platform a secret of its own")
		}
	}

	pending, err := r.getValue(ctx, ru, ru.version, stagePending)
	switch {
	case err == nil:
		v, ok, perr := secrets.ParseRotated(aws.ToString(pending.SecretString))
		if !ok || perr != nil {
			return fmt.Errorf("the AWSPENDING version %s already holds a value this function did not write; take AWSPENDING off it and rotate again", ru.version)
		}
		ru.done = append(ru.done, slog.String("result", "already created"), slog.String("intercom_secret_id", v.IntercomSecretID))
		return nil
	case !notFound(err):
		return fmt.Errorf("read the AWSPENDING version: %w", err)
	}

	ic, err := r.intercomClient(ctx)
	if err != nil {
		return err
	}
	name := intercomName(ru.platform, ru.name, ru.version)
	// Look before creating: a secret with this version's name was made by
	// an earlier attempt whose value never reached Secrets Manager (the
	// create's answer was lost, or PutSecretValue failed). Its secret is
	// known to nobody: delete it and make a new one.
	list, err := r.list(ctx, ic)
	if err != nil {
		return err
	}
	for _, s := range list {
		if s.Name != name {
			continue
		}
		if err := r.delete(ctx, ic, s.ID); err != nil {
			return fmt.Errorf("delete the secret %s an earlier attempt made but did not store: %w", s.ID, err)
		}
		r.log.LogAttrs(ctx, slog.LevelWarn, "deleted the Intercom secret an earlier attempt made but did not store",
			slog.String("step", ru.step), slog.String("platform", ru.platform.String()),
			slog.String("version_id", ru.version), slog.String("intercom_secret_id", s.ID))
	}

	cctx, cancel := r.bound(ctx)
	created, err := ic.CreateSecret(cctx, name, ru.platform)
	cancel()
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
	cctx, cancel = r.bound(ctx)
	_, err = r.sm.PutSecretValue(cctx, in)
	cancel()
	if err != nil {
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
		if derr := r.delete(ctx, ic, createdID); derr == nil {
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
func (r *Rotator) testSecret(ctx context.Context, ru *run) error {
	v, err := r.pendingValue(ctx, ru)
	if errors.Is(err, errNotCreated) {
		ic, err := r.intercomClient(ctx)
		if err != nil {
			return err
		}
		if _, err := r.list(ctx, ic); err != nil {
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
	ic, err := r.intercomClient(ctx)
	if err != nil {
		return err
	}
	list, err := r.list(ctx, ic)
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
func (r *Rotator) finishSecret(ctx context.Context, ru *run) error {
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
	ic, err := r.intercomClient(ctx)
	if err != nil {
		return err
	}
	list, err := r.list(ctx, ic)
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
		move.RemoveFromVersionId = aws.String(current)
	}
	cctx, cancel := r.bound(ctx)
	_, err = r.sm.UpdateSecretVersionStage(cctx, move)
	cancel()
	if err != nil {
		return fmt.Errorf("move AWSCURRENT to the new version: %w", err)
	}
	ru.done = append(ru.done, slog.String("result", "the new version is AWSCURRENT"), slog.String("intercom_secret_id", newValue.IntercomSecretID))
	return r.unlabelPending(ctx, ru)
}

// unlabelPending takes AWSPENDING off the new version once it is current,
// as Secrets Manager's own rotation functions do.
func (r *Rotator) unlabelPending(ctx context.Context, ru *run) error {
	cctx, cancel := r.bound(ctx)
	defer cancel()
	_, err := r.sm.UpdateSecretVersionStage(cctx, &secretsmanager.UpdateSecretVersionStageInput{
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
	since := aws.ToTime(cur.CreatedDate)
	if out := r.now().Sub(since); out < r.cfg.RetireAfter {
		label := retiringLabel(since, previous)
		cctx, cancel := r.bound(ctx)
		_, err := r.sm.UpdateSecretVersionStage(cctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId: aws.String(ru.secretID), VersionStage: aws.String(label), MoveToVersionId: aws.String(previous),
		})
		cancel()
		if err != nil {
			return fmt.Errorf("label the AWSPREVIOUS version %s: %w", label, err)
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
	ru.done = append(ru.done, slog.String("retired_intercom_secret_id", old.IntercomSecretID), slog.String("retired_version_id", previous))
	return nil
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
			cctx, cancel := r.bound(ctx)
			_, err = r.sm.UpdateSecretVersionStage(cctx, &secretsmanager.UpdateSecretVersionStageInput{
				SecretId: aws.String(ru.secretID), VersionStage: aws.String(label), RemoveFromVersionId: aws.String(id),
			})
			cancel()
			if err != nil {
				return fmt.Errorf("take %s off the retired version: %w", label, err)
			}
		}
	}
	return nil
}

// deleteNamed deletes every listed secret named name, except keepID.
func (r *Rotator) deleteNamed(ctx context.Context, ru *run, ic *intercom.Client, list []intercom.Secret, name, keepID string) error {
	for _, s := range list {
		if s.Name != name || s.ID == keepID {
			continue
		}
		if err := r.delete(ctx, ic, s.ID); err != nil {
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

func (r *Rotator) list(ctx context.Context, ic *intercom.Client) ([]intercom.Secret, error) {
	cctx, cancel := r.bound(ctx)
	defer cancel()
	return ic.ListSecrets(cctx)
}

// delete deletes an Intercom secret; one that is gone already is deleted.
func (r *Rotator) delete(ctx context.Context, ic *intercom.Client, id string) error {
	cctx, cancel := r.bound(ctx)
	defer cancel()
	if err := ic.DeleteSecret(cctx, id); err != nil && !errors.Is(err, intercom.ErrNotFound) {
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
