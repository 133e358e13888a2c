// The rotation function's configuration (README, "Rotating the Intercom
// secret"): which Secrets Manager secret is which platform's, where the
// Intercom access token is, and which Intercom API to call. It is read from
// the environment here, like the user-hash function's, and checked before
// anything starts.

package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Rotation is the rotation function's configuration.
//
//	cfg, err := config.LoadRotation(os.LookupEnv)
//	// err is one line naming the variable, e.g. "INTERCOM_TOKEN_SECRET_ID: not set; ..."
type Rotation struct {
	InLambda     bool   // AWS_LAMBDA_RUNTIME_API is set
	FunctionName string // AWS_LAMBDA_FUNCTION_NAME

	// SecretIDs holds the secret (name or ARN; the template gives ARNs) of
	// each platform that has one, by its name in Platforms; a rotation
	// event for any other secret is refused.
	SecretIDs map[string]string
	// IntercomTokenSecretID is where the Intercom access token is: a
	// secret ID, or ID#key for a field of a JSON secret.
	IntercomTokenSecretID string
	// IntercomAPIURL is INTERCOM_API_URL as written: the EU or AU host, a
	// test server, or "" for Intercom's default (intercom.CheckBaseURL
	// checks it as main builds the client).
	IntercomAPIURL string
	LogLevel       slog.Level

	// How long a secret lives on in the user-hash function after it stops
	// being current: SECRET_CACHE_TTL, SECRET_MAX_STALE and USER_JWT_TTL,
	// read as that function reads them. An old Intercom secret is deleted
	// only once out of use longer than all of them together.
	SecretCacheTTL, SecretMaxStale, UserJWTTTL time.Duration
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
		SecretIDs:      map[string]string{},
		IntercomAPIURL: env("INTERCOM_API_URL"),
	}
	owner := map[string]string{} // secret ID -> the variable that names it
	for _, p := range Platforms {
		name := strings.ToUpper(p) + "_SECRET_ID"
		v := env(name)
		if v == "" {
			continue
		}
		id, key, err := ParseSecretID(v)
		if err != nil {
			return Rotation{}, fmt.Errorf("%s: %v", name, err)
		}
		if key != "" {
			// Rotation replaces a secret's whole value: it would overwrite
			// the other fields of a shared JSON secret.
			return Rotation{}, fmt.Errorf("%s: rotation replaces the whole value of a secret, so it cannot rotate field %q of a JSON secret; give each rotated platform a secret of its own", name, key)
		}
		if other, dup := owner[id]; dup {
			return Rotation{}, fmt.Errorf("%s: the same secret as %s; each platform has its own Intercom secret, so each needs its own Secrets Manager secret", name, other)
		}
		owner[id] = name
		c.SecretIDs[p] = id
	}
	if len(c.SecretIDs) == 0 {
		return Rotation{}, errors.New("IOS_SECRET_ID: no platform secret to rotate; set at least one of IOS_SECRET_ID, ANDROID_SECRET_ID, WEB_SECRET_ID")
	}

	tokenID := env("INTERCOM_TOKEN_SECRET_ID")
	if tokenID == "" {
		return Rotation{}, errors.New("INTERCOM_TOKEN_SECRET_ID: not set; name the Secrets Manager secret that holds the Intercom access token (scopes read_secure_mode_secret and write_secure_mode_secret)")
	}
	id, _, err := ParseSecretID(tokenID)
	if err != nil {
		return Rotation{}, fmt.Errorf("INTERCOM_TOKEN_SECRET_ID: %v", err)
	}
	if other, dup := owner[id]; dup {
		return Rotation{}, fmt.Errorf("INTERCOM_TOKEN_SECRET_ID: the same secret as %s; the access token needs a secret of its own", other)
	}
	c.IntercomTokenSecretID = tokenID

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
	return c, nil
}
