// Each configured platform's secret, fetched the way the function fetches
// it (shared/secrets: the same client, cache and ID#key reading), and shown
// only as where it came from, its version, how long the fetch took and a
// fingerprint.

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"

	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// errNoAWS marks a secret not fetched because the AWS configuration did
// not load; the aws check says why.
var errNoAWS = errors.New("not fetched: no AWS configuration (see aws)")

// key is one platform's secret as the doctor found it.
type key struct {
	platform platform.Platform
	ref      secrets.Ref // zero for a literal secret
	value    []byte      // nil when it could not be had
	err      error
}

// fingerprint is the first 8 hex digits of the SHA-256 of a secret: enough
// to tell two secrets apart, and to compare with Intercom's
// (printf %s "$SECRET" | sha256sum | cut -c1-8), never enough to recover it.
func fingerprint(secret []byte) string {
	sum := sha256.Sum256(secret)
	return hex.EncodeToString(sum[:4])
}

// fetchSecrets fetches every configured platform's secret, in parallel, and
// adds one check per platform.
func (d *doctor) fetchSecrets(ctx context.Context) {
	src := d.src
	var awsErr error
	if len(src.Refs) > 0 {
		var awsCfg aws.Config
		if awsCfg, awsErr = d.aws(ctx); awsErr == nil {
			// The function's own client and cache. The cache's log lines
			// are for the function's log; the doctor reports the same
			// facts as checks.
			src.Cache = secrets.NewCache(secrets.NewClient(awsCfg),
				secrets.WithAttemptTimeout(d.opts.timeout),
				secrets.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		}
	}

	ps := src.Served()
	d.keys = make([]*key, len(ps))
	took := make([]time.Duration, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		d.keys[i] = &key{platform: p, ref: src.Refs[p]}
		if _, ok := src.Refs[p]; ok && awsErr != nil {
			d.keys[i].err = errNoAWS
			continue
		}
		wg.Go(func() {
			callCtx, cancel := context.WithTimeout(ctx, d.opts.timeout)
			defer cancel()
			start := time.Now()
			d.keys[i].value, d.keys[i].err = src.PlatformSecret(callCtx, p)
			took[i] = time.Since(start)
		})
	}
	wg.Wait()
	for i, k := range d.keys {
		d.reportSecret(k, src.Cache, took[i])
	}
}

// reportSecret adds the check of one platform's secret.
func (d *doctor) reportSecret(k *key, cache *secrets.Cache, took time.Duration) {
	name := "secret." + k.platform.String()
	source := "literal " + k.platform.EnvPrefix() + "_SECRET (local runs only)"
	if k.ref.ID != "" {
		source = k.ref.String()
	}
	if k.err != nil {
		detail, fix := secretFailure(k.err)
		if other := d.opts.platform; other != 0 && other != k.platform {
			// With -platform, only that platform's secret must be read:
			// another may be mid-setup (added to Platforms, not yet put in).
			d.rep.pass(name, fmt.Sprintf("%s: %s; not needed for -platform %s", source, detail, other))
			return
		}
		d.rep.fail(name, source+": "+detail, fix)
		return
	}
	if problem := secretValueProblem(k.value); problem != "" {
		d.rep.fail(name, source+": "+problem+", fingerprint "+fingerprint(k.value),
			"Put the secret in again exactly as Intercom's settings show it: no quotes, no spaces or newline around it (docs/deploy.md, step 3).")
		return
	}
	detail := source + ": "
	if k.ref.ID != "" {
		version := cache.VersionID(k.ref.ID)
		if version == "" {
			version = "unknown"
		}
		detail += fmt.Sprintf("version %s, fetched in %s, ", version, roundMS(took))
	}
	d.rep.pass(name, detail+"fingerprint "+fingerprint(k.value))
}

// secretValueProblem says what is wrong with a secret value that the
// function would use as it is, but that cannot be what Intercom shows:
// white space or quotes around it, or a whole JSON object. A hash made with
// such a value is consistent here and rejected by Intercom, so it is worth
// a failure. It never quotes the value.
func secretValueProblem(v []byte) string {
	s := string(v)
	switch {
	case strings.TrimFunc(s, unicode.IsSpace) != s:
		return "the value has white space or a newline around it, which Intercom's secret has not"
	case len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\''):
		return "the value is in quotes, which Intercom's secret is not"
	case strings.HasPrefix(s, "{") && json.Valid(v):
		return "the value is a whole JSON object; name its field as ID#key in the *_SECRET_ID variable (or the stack's *SecretArn parameter)"
	}
	return ""
}

// secretFailure turns a failed fetch into a detail and a fix, by the
// cache's reason words, never with the value or the SDK's full text.
func secretFailure(err error) (detail, fix string) {
	var u *secrets.UnavailableError
	if errors.Is(err, errNoAWS) {
		return err.Error(), ""
	}
	if !errors.As(err, &u) {
		return "unavailable", ""
	}
	code := ""
	var api smithy.APIError
	if errors.As(u.Err, &api) {
		code = " (" + api.ErrorCode() + ")"
	}
	switch u.Reason {
	case secrets.ReasonNotFound:
		return "not found, or it has no value yet" + code,
			"Put the platform's secret from Intercom's settings in: aws secretsmanager put-secret-value --secret-id ID --secret-string \"$SECRET\" (docs/deploy.md, step 3)."
	case secrets.ReasonAccessDenied:
		return "access denied" + code,
			"The doctor reads with your AWS credentials, not the function's role: use credentials that may call secretsmanager:GetSecretValue on it (and kms:Decrypt for a customer-managed key)."
	case secrets.ReasonDecryptionFailure:
		return "cannot be decrypted" + code,
			"Your credentials need kms:Decrypt on the secret's KMS key (the stack's KmsKeyArn), through Secrets Manager."
	case secrets.ReasonInvalidValue:
		// The cache's own words: what is wrong, never the value.
		return errors.Unwrap(u).Error(),
			"Store the secret as a SecretString; for ID#key, a JSON object whose field key holds the secret as a string."
	case secrets.ReasonTimeout:
		return "no answer within the time bound" + code,
			"Try again, or give more time with -timeout; check the network path to Secrets Manager."
	case secrets.ReasonThrottled, secrets.ReasonServerError:
		return "Secrets Manager answered " + u.Reason + code, "Try again in a minute."
	}
	return "GetSecretValue failed: " + u.Reason + code, "Check the secret's ID and region, and your credentials."
}

func roundMS(d time.Duration) string {
	return d.Round(time.Millisecond).String()
}
