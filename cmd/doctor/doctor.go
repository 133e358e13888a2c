// The examination in order: the stack (if named), the configuration, each
// platform's secret, then the hash, the JWT and the call to the API, each
// adding its checks to one report.

package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/config"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// doctor holds one run's inputs and what it has learned so far.
type doctor struct {
	opts   options
	lookup func(string) (string, bool)
	now    func() time.Time
	http   *http.Client

	awsCfg  *aws.Config // loaded on first use
	awsErr  error
	cfg     *config.Config     // nil when the configuration did not load
	src     *secrets.Platforms // the function's own source of the secrets; nil with cfg
	keys    []*key             // each configured platform's secret, in platform.All order
	extra   []string           // further sensitive values met on the way (the API's answers)
	apiURL  string
	rep     Report
	causeOf []Cause // the cause of the hash and of the JWT, in that order
}

func newDoctor(o options, lookup func(string) (string, bool)) *doctor {
	return &doctor{
		opts:   o,
		lookup: lookup,
		now:    time.Now,
		http: &http.Client{
			Timeout: o.timeout,
			// A redirect would turn the POST into a GET elsewhere; report it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		apiURL: o.url,
	}
}

// examine runs every check the options ask for and returns the report.
func (d *doctor) examine(ctx context.Context) Report {
	env := d.lookup
	if d.opts.stack != "" {
		st := d.readStack(ctx)
		if st == nil {
			// Without the stack's outputs, the local environment's secrets
			// would be checked in its name: stop here.
			if d.opts.hash != "" || d.opts.jwt != "" {
				d.rep.Cause = CauseUndetermined
			}
			d.rep.finish()
			return d.rep
		}
		env = st.overlay(env)
		d.apiURL = st.url
	}
	d.loadConfig(env)
	if d.cfg != nil {
		d.fetchSecrets(ctx)
	}
	if d.opts.hash != "" {
		d.checkHash()
	}
	if d.opts.jwt != "" {
		d.checkJWT()
	}
	if d.opts.status != 0 {
		d.explainStatus()
	}
	if d.opts.smokeTest() && d.apiURL != "" {
		d.smokeTest(ctx)
	}
	d.rep.Cause = firstCause(d.causeOf)
	d.rep.finish()
	return d.rep
}

// firstCause is the report's cause: the first that is not a match, else
// match.
func firstCause(cs []Cause) Cause {
	for _, c := range cs {
		if c != CauseMatch {
			return c
		}
	}
	if len(cs) > 0 {
		return CauseMatch
	}
	return ""
}

// sensitive lists every value the output must never contain.
func (d *doctor) sensitive() []string {
	s := []string{d.opts.password, d.opts.token, d.opts.hash, d.opts.jwt}
	if d.opts.hash != "" {
		s = append(s, strings.ToLower(d.opts.hash), strings.ToUpper(d.opts.hash))
	}
	for _, k := range d.keys {
		if k.value != nil {
			s = append(s, string(k.value))
		}
	}
	return append(s, d.extra...)
}

// loadConfig reads the function's configuration with the function's own
// config.Load, from env as the doctor sees it (see doctorEnv).
func (d *doctor) loadConfig(env func(string) (string, bool)) {
	cfg, err := config.Load(doctorEnv(env))
	if err != nil {
		// config.Load's errors name the variable and never hold a secret.
		d.rep.fail("config", err.Error(), "Set the variable as the README's Configuration table says; the doctor reads the same environment as the function.")
		return
	}
	// The function's main also builds its claim mapping before it starts
	// (USER_JWT_ATTRIBUTES is parsed there): what it refuses, so does this.
	if _, err := auth.NewClaimMapping(cfg.Claims.UserID, cfg.Claims.Email, cfg.Claims.EmailVerified, cfg.Claims.IssuerVerifiesEmails, cfg.Claims.Attributes); err != nil {
		d.rep.fail("config", err.Error(), "Set the variable as the README's Configuration table says; the doctor reads the same environment as the function.")
		return
	}
	d.cfg = &cfg
	// The cache is added once AWS is configured (fetchSecrets).
	d.src = secrets.NewPlatforms(nil, cfg.SecretIDs, cfg.SecretLiterals)
	var sm, lit []string
	for _, p := range cfg.Served() {
		if _, ok := cfg.SecretIDs[p]; ok {
			sm = append(sm, p)
		} else {
			lit = append(lit, p)
		}
	}
	var parts []string
	if len(sm) > 0 {
		parts = append(parts, strings.Join(sm, ", ")+" from Secrets Manager")
	}
	if len(lit) > 0 {
		parts = append(parts, strings.Join(lit, ", ")+" from literal *_SECRET variables (local runs only)")
	}
	d.rep.pass("config", "platforms "+strings.Join(parts, "; "))
}

// doctorEnv is the environment as config.Load is to read it for the doctor.
// AUTH_MODE, JWT_ISSUER and JWT_AUDIENCE say how the server authenticates
// its callers, which the doctor never does: the local server in jwt mode
// needs the issuer to verify tokens itself, and an operator checking a
// deployed stack has no reason to set it. So they are left out, and the
// configuration is read as password mode's, which needs neither. Password
// mode beside a real secret wants an explicit USERS_FILE, so that a server
// never signs the public demo users in with it; the doctor signs nobody in
// and never opens the file, so an unset one is given the default name.
func doctorEnv(env func(string) (string, bool)) func(string) (string, bool) {
	return func(name string) (string, bool) {
		switch name {
		case "AUTH_MODE":
			return string(config.ModePassword), true
		case "JWT_ISSUER", "JWT_AUDIENCE":
			return "", false
		case "USERS_FILE":
			if v, ok := env(name); ok && v != "" {
				return v, true
			}
			return config.DefaultUsersFile, true
		}
		return env(name)
	}
}

// aws returns the operator's AWS configuration, loaded once: the usual
// chain (environment, profiles, SSO), AWS_ENDPOINT_URL_* included, with
// -region and -profile over it.
func (d *doctor) aws(ctx context.Context) (aws.Config, error) {
	switch {
	case d.awsErr != nil:
		return aws.Config{}, d.awsErr
	case d.awsCfg != nil:
		return *d.awsCfg, nil
	}
	var opts []func(*awsconfig.LoadOptions) error
	if d.opts.region != "" {
		opts = append(opts, awsconfig.WithRegion(d.opts.region))
	}
	if d.opts.profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(d.opts.profile))
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.timeout)
	defer cancel()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	switch {
	case err != nil:
		d.awsErr = fmt.Errorf("AWS configuration: %w", err)
	case cfg.Region == "":
		d.awsErr = errors.New("no AWS region: set AWS_REGION, give -region, or use a profile that has one")
	}
	if d.awsErr != nil {
		d.rep.fail("aws", d.awsErr.Error(), "Give the doctor AWS credentials and a region as for the AWS CLI (AWS_PROFILE, aws sso login, AWS_REGION).")
		return aws.Config{}, d.awsErr
	}
	d.awsCfg = &cfg
	return cfg, nil
}

// platformsToCall lists the platforms the smoke test asks the API for:
// -platform, else every configured one.
func (d *doctor) platformsToCall() []platform.Platform {
	if d.opts.platform != 0 {
		return []platform.Platform{d.opts.platform}
	}
	if d.src == nil {
		return nil
	}
	return d.src.Served()
}
