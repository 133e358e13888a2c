// The rotation function's configuration (SPEC §9): which Secrets Manager
// secret is which platform's, where the Intercom access token is, and
// which Intercom API to call. It is read from the environment here, like
// the user-hash function's, and checked before anything starts.

package config

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/intercom-identity/userhash/shared/intercom"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// Rotation is the rotation function's configuration.
//
//	cfg, err := config.LoadRotation(os.LookupEnv)
//	// err is one line naming the variable, e.g. "INTERCOM_TOKEN_SECRET_ID: not set; ..."
type Rotation struct {
	InLambda     bool   // AWS_LAMBDA_RUNTIME_API is set
	FunctionName string // AWS_LAMBDA_FUNCTION_NAME

	// SecretIDs holds the secret (name or ARN; the template gives ARNs) of
	// each platform that has one; a rotation event for any other secret is
	// refused.
	SecretIDs map[platform.Platform]string
	// IntercomToken is where the Intercom access token is: a secret ID, or
	// ID#key for a field of a JSON secret.
	IntercomToken secrets.Ref
	// IntercomAPIURL is the API's base URL: https://api.intercom.io, or
	// the EU or AU host.
	IntercomAPIURL string
	LogLevel       slog.Level

	// How long a secret lives on in the user-hash function after it stops
	// being current: SECRET_CACHE_TTL, SECRET_MAX_STALE and USER_JWT_TTL,
	// read as that function reads them. An old Intercom secret is deleted
	// only once out of use longer than all of them together.
	SecretCacheTTL, SecretMaxStale, UserJWTTTL time.Duration

	AWS AWS // the region, credentials and endpoints for the Secrets Manager client
}

// RotationVariables returns every environment variable LoadRotation reads,
// sorted, so that a test can hold the template's environment of the
// rotation function to what the code reads. Like Variables it is found by
// running LoadRotation (see reads), here from an empty environment alone,
// which reaches every path of LoadRotation.
func RotationVariables() []string {
	return reads(func(lookup func(string) (string, bool)) { _, _ = LoadRotation(lookup) }, []map[string]string{{}})
}

// LoadRotation reads and checks the rotation function's configuration.
// lookup is os.LookupEnv outside tests. The error, if any, is one line that
// names the variable at fault.
func LoadRotation(lookup func(string) (string, bool)) (Rotation, error) {
	env := func(name string) string {
		v, _ := lookup(name)
		return v
	}
	c := Rotation{
		InLambda:       env("AWS_LAMBDA_RUNTIME_API") != "",
		FunctionName:   env("AWS_LAMBDA_FUNCTION_NAME"),
		SecretIDs:      map[platform.Platform]string{},
		IntercomAPIURL: or(env("INTERCOM_API_URL"), intercom.DefaultBaseURL),
	}
	owner := map[string]string{} // secret ID -> the variable that names it
	for _, p := range platform.All() {
		name := p.EnvPrefix() + "_SECRET_ID"
		v := env(name)
		if v == "" {
			continue
		}
		ref, err := secrets.ParseRef(v)
		if err != nil {
			return Rotation{}, fmt.Errorf("%s: %v", name, err)
		}
		if ref.Key != "" {
			// Rotation replaces a secret's whole value: it would overwrite
			// the other fields of a shared JSON secret.
			return Rotation{}, fmt.Errorf("%s: rotation replaces the whole value of a secret, so it cannot rotate field %q of a JSON secret; give each rotated platform a secret of its own", name, ref.Key)
		}
		if other, dup := owner[ref.ID]; dup {
			return Rotation{}, fmt.Errorf("%s: the same secret as %s; each platform has its own Intercom secret, so each needs its own Secrets Manager secret", name, other)
		}
		owner[ref.ID] = name
		c.SecretIDs[p] = ref.ID
	}
	if len(c.SecretIDs) == 0 {
		return Rotation{}, errors.New("IOS_SECRET_ID: no platform secret to rotate; set at least one of IOS_SECRET_ID, ANDROID_SECRET_ID, WEB_SECRET_ID")
	}

	tokenID := env("INTERCOM_TOKEN_SECRET_ID")
	if tokenID == "" {
		return Rotation{}, errors.New("INTERCOM_TOKEN_SECRET_ID: not set; name the Secrets Manager secret that holds the Intercom access token (scopes read_secure_mode_secret and write_secure_mode_secret)")
	}
	ref, err := secrets.ParseRef(tokenID)
	if err != nil {
		return Rotation{}, fmt.Errorf("INTERCOM_TOKEN_SECRET_ID: %v", err)
	}
	if other, dup := owner[ref.ID]; dup {
		return Rotation{}, fmt.Errorf("INTERCOM_TOKEN_SECRET_ID: the same secret as %s; the access token needs a secret of its own", other)
	}
	c.IntercomToken = ref

	if c.IntercomAPIURL, err = intercom.CheckBaseURL(c.IntercomAPIURL); err != nil {
		return Rotation{}, fmt.Errorf("INTERCOM_API_URL: %v", err)
	}

	if c.SecretCacheTTL, c.SecretMaxStale, c.UserJWTTTL, err = lifetimes(env); err != nil {
		return Rotation{}, err
	}

	level, levelVar := env("LOG_LEVEL"), "LOG_LEVEL"
	if level == "" && env("AWS_LAMBDA_LOG_LEVEL") != "" {
		level, levelVar = env("AWS_LAMBDA_LOG_LEVEL"), "AWS_LAMBDA_LOG_LEVEL"
	}
	if c.LogLevel, err = logLevel(levelVar, level); err != nil {
		return Rotation{}, err
	}
	if c.AWS, err = LoadAWS(lookup); err != nil {
		return Rotation{}, err
	}
	return c, nil
}
