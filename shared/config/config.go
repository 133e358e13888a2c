// Package config reads the product's configuration from the environment, in
// one place, and checks it before anything starts. It only turns the
// environment into plain values (strings, durations, flags); main builds
// the adapters from them. The AWS variables are shared/awsenv's.
//
//	cfg, err := config.Load(os.LookupEnv)
//	if err != nil {
//		// err is one line naming the variable, e.g.
//		// "SECRET_CACHE_TTL: "5x" is not a duration (like 5m or 30s)"
//	}
//	src := secrets.NewPlatforms(cache, cfg.SecretIDs, cfg.SecretLiterals)
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Mode is how callers prove who they are.
type Mode string

// The authentication modes.
const (
	ModeJWT      Mode = "jwt"      // API Gateway's JWT authorizer verified a bearer token
	ModePassword Mode = "password" // the function checks a username and password
)

// DefaultUsersFile is the demo users file, relative to the repository root.
// Its passwords are public, so it is the default only beside literal demo
// secrets: with a *_SECRET_ID set, USERS_FILE must be given.
const DefaultUsersFile = "demo/users.json"

// Platforms are the platforms' names, in the order they are listed to
// users; each one's variables start with its name in upper case (IOS_SECRET_ID).
var Platforms = []string{"ios", "android", "web"}

// Claims names the token claims the identity comes from.
type Claims struct {
	UserID        string // USER_ID_CLAIM, default sub
	Email         string // EMAIL_CLAIM, default email
	EmailVerified string // EMAIL_VERIFIED_CLAIM, default email_verified
	// IssuerVerifiesEmails: EMAIL_VERIFIED_CLAIM is set and empty, which
	// declares that the issuer only issues verified emails.
	IssuerVerifiesEmails bool
	Attributes           string // USER_JWT_ATTRIBUTES as written: attr=claim pairs, "" for none
}

// Config is the whole configuration.
type Config struct {
	InLambda     bool   // AWS_LAMBDA_RUNTIME_API is set
	FunctionName string // AWS_LAMBDA_FUNCTION_NAME, which Lambda sets; the metrics' dimension
	Mode         Mode

	// Each platform's secret, by its name in Platforms: a Secrets Manager
	// secret (*_SECRET_ID: an ID, or ID#key for a field of a JSON secret)
	// or a literal value (*_SECRET, local runs only). A platform in
	// neither is unsupported; none is in both.
	SecretIDs      map[string]string
	SecretLiterals map[string]string
	SecretCacheTTL time.Duration
	SecretMaxStale time.Duration

	Claims Claims

	CognitoClientID       string
	CognitoClientSecretID string // COGNITO_CLIENT_SECRET_ID, ID or ID#key; "" when the app client has no secret
	// EdgeOriginSecretID is EDGE_ORIGIN_SECRET_ID, ID or ID#key: the secret
	// CloudFront sends in X-Origin-Verify when the stack has an edge in
	// front of the API (EdgeWebAclArn); "" without one. Lambda only.
	EdgeOriginSecretID string
	UsersFile          string // USERS_FILE, or DefaultUsersFile where that is allowed; "" where no users file is read

	UserJWTTTL time.Duration // 0: issue no JWT

	JWTIssuer   string
	JWTAudience string

	ListenAddr     string
	AllowedOrigins []string // local server only; in AWS the gateway does CORS
	LogLevel       slog.Level
}

// UsesSecretsManager reports whether any secret is read from Secrets Manager.
func (c Config) UsesSecretsManager() bool {
	return c.CognitoClientSecretID != "" || c.EdgeOriginSecretID != "" || len(c.SecretIDs) > 0
}

// UsesCognito reports whether password sign-in goes to a Cognito user pool.
func (c Config) UsesCognito() bool {
	return c.Mode == ModePassword && c.CognitoClientID != ""
}

// Served lists the platforms that have a secret, in Platforms order.
func (c Config) Served() []string {
	var ps []string
	for _, p := range Platforms {
		_, id := c.SecretIDs[p]
		_, lit := c.SecretLiterals[p]
		if id || lit {
			ps = append(ps, p)
		}
	}
	return ps
}

// UnstableUserIDClaims are the claims USER_ID_CLAIM may not name: the
// OpenID Connect profile claims that name or reach a person (OIDC Core
// §5.1 says only sub is a stable identifier) and a provider's plain
// username. The user can change them through the provider's own profile
// calls, or they are not unique, so a user_id taken from one would sign
// whoever sets it as another user. cognito:username is not among them:
// Cognito never lets it change. template.yaml refuses the same list.
var UnstableUserIDClaims = []string{
	"email", "phone_number", "preferred_username", "username",
	"name", "given_name", "family_name", "middle_name", "nickname",
}

// Load reads and checks the configuration. lookup is os.LookupEnv outside
// tests. The error, if any, is one line that names the variable at fault
// and never contains a secret.
func Load(lookup func(string) (string, bool)) (Config, error) {
	env := func(name string) string {
		v, _ := lookup(name)
		return v
	}
	c := Config{
		InLambda:        env("AWS_LAMBDA_RUNTIME_API") != "",
		FunctionName:    env("AWS_LAMBDA_FUNCTION_NAME"),
		Mode:            Mode(strings.ToLower(or(env("AUTH_MODE"), string(ModeJWT)))),
		SecretIDs:       map[string]string{},
		SecretLiterals:  map[string]string{},
		Claims:          Claims{UserID: or(env("USER_ID_CLAIM"), "sub"), Email: or(env("EMAIL_CLAIM"), "email")},
		CognitoClientID: env("COGNITO_CLIENT_ID"),
		UsersFile:       env("USERS_FILE"),
		JWTIssuer:       env("JWT_ISSUER"),
		JWTAudience:     env("JWT_AUDIENCE"),
		ListenAddr:      or(env("LISTEN_ADDR"), "127.0.0.1:3000"),
	}
	var err error
	if c.Mode != ModeJWT && c.Mode != ModePassword {
		return Config{}, fmt.Errorf("AUTH_MODE: %q is not a mode; use jwt or password", env("AUTH_MODE"))
	}
	if c.SecretCacheTTL, c.SecretMaxStale, c.UserJWTTTL, err = lifetimes(env); err != nil {
		return Config{}, err
	}
	for _, o := range strings.Split(env("ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	// Lambda's own log-level setting (LoggingConfig.ApplicationLogLevel)
	// applies when LOG_LEVEL does not.
	level, levelVar := env("LOG_LEVEL"), "LOG_LEVEL"
	if level == "" && env("AWS_LAMBDA_LOG_LEVEL") != "" {
		level, levelVar = env("AWS_LAMBDA_LOG_LEVEL"), "AWS_LAMBDA_LOG_LEVEL"
	}
	if c.LogLevel, err = logLevel(levelVar, level); err != nil {
		return Config{}, err
	}
	if err := c.loadSecrets(lookup); err != nil {
		return Config{}, err
	}
	if id := env("COGNITO_CLIENT_SECRET_ID"); id != "" {
		if _, _, err := ParseSecretID(id); err != nil {
			return Config{}, fmt.Errorf("COGNITO_CLIENT_SECRET_ID: %v", err)
		}
		c.CognitoClientSecretID = id
		if c.CognitoClientID == "" {
			return Config{}, errors.New("COGNITO_CLIENT_SECRET_ID: set without COGNITO_CLIENT_ID")
		}
	}
	if id := env("EDGE_ORIGIN_SECRET_ID"); id != "" {
		if _, _, err := ParseSecretID(id); err != nil {
			return Config{}, fmt.Errorf("EDGE_ORIGIN_SECRET_ID: %v", err)
		}
		// Only CloudFront sends the header; nothing stands in front of the
		// local server to add it, or to vouch for CloudFront-Viewer-Address.
		if !c.InLambda {
			return Config{}, errors.New("EDGE_ORIGIN_SECRET_ID: the CloudFront edge's origin check runs in AWS Lambda only; the local server has no CloudFront in front, so unset it")
		}
		c.EdgeOriginSecretID = id
	}
	if err := c.usersFile(); err != nil {
		return Config{}, err
	}
	if c.Claims.UserID == c.Claims.Email {
		return Config{}, fmt.Errorf("EMAIL_CLAIM: %q is also USER_ID_CLAIM; the user_id and the email must come from different claims", c.Claims.Email)
	}
	if slices.Contains(UnstableUserIDClaims, c.Claims.UserID) {
		return Config{}, fmt.Errorf("USER_ID_CLAIM: %q is a profile claim the user can change or that is not unique, so whoever sets it gets another user's hash; use sub or an attribute only an administrator sets", c.Claims.UserID)
	}
	if err := c.loadClaims(lookup); err != nil {
		return Config{}, err
	}

	switch {
	case c.InLambda && c.Mode == ModePassword && c.CognitoClientID == "":
		return Config{}, errors.New("COGNITO_CLIENT_ID: password mode inside Lambda signs users in with Cognito and needs the user pool app client ID")
	case !c.InLambda && c.Mode == ModeJWT && c.JWTIssuer == "":
		return Config{}, errors.New("JWT_ISSUER: jwt mode on the local server verifies bearer tokens itself and needs the issuer URL (and JWT_AUDIENCE); or use AUTH_MODE=password")
	case !c.InLambda && c.Mode == ModeJWT && c.JWTAudience == "":
		return Config{}, errors.New("JWT_AUDIENCE: jwt mode on the local server needs the accepted audience (the app client ID for Cognito)")
	case c.JWTIssuer != "" && !strings.HasPrefix(c.JWTIssuer, "https://") && !strings.HasPrefix(c.JWTIssuer, "http://"):
		return Config{}, fmt.Errorf("JWT_ISSUER: %q is not an http(s) URL", c.JWTIssuer)
	}
	return c, nil
}

func (c *Config) loadSecrets(lookup func(string) (string, bool)) error {
	for _, p := range Platforms {
		litName, idName := strings.ToUpper(p)+"_SECRET", strings.ToUpper(p)+"_SECRET_ID"
		lit, hasLit := lookup(litName)
		id, hasID := lookup(idName)
		hasLit, hasID = hasLit && lit != "", hasID && id != ""
		switch {
		case hasLit && hasID:
			return fmt.Errorf("%s: set together with %s; give each platform one source", litName, idName)
		case hasLit && c.InLambda:
			return fmt.Errorf("%s: literal secrets are for local runs only; inside Lambda put the secret in Secrets Manager and set %s", litName, idName)
		case hasLit:
			c.SecretLiterals[p] = lit
		case hasID:
			if _, _, err := ParseSecretID(id); err != nil {
				return fmt.Errorf("%s: %v", idName, err)
			}
			c.SecretIDs[p] = id
		}
	}
	if len(c.SecretIDs)+len(c.SecretLiterals) == 0 {
		return errors.New("IOS_SECRET_ID: no platform has a secret; set at least one of IOS_SECRET_ID, ANDROID_SECRET_ID, WEB_SECRET_ID (or IOS_SECRET, ... for local runs)")
	}
	return nil
}

// loadClaims reads what makes a claim proof: EMAIL_VERIFIED_CLAIM, where
// set and empty differ (set to "" declares that the issuer only issues
// verified emails; unset is the default claim), and the signed JWT
// attributes of USER_JWT_ATTRIBUTES.
func (c *Config) loadClaims(lookup func(string) (string, bool)) error {
	switch v, set := lookup("EMAIL_VERIFIED_CLAIM"); {
	case !set:
		c.Claims.EmailVerified = "email_verified"
	case v == "":
		c.Claims.IssuerVerifiesEmails = true
	case v == c.Claims.Email || v == c.Claims.UserID:
		return fmt.Errorf("EMAIL_VERIFIED_CLAIM: %q is also EMAIL_CLAIM or USER_ID_CLAIM; name the claim that says the email is verified, e.g. email_verified", v)
	default:
		c.Claims.EmailVerified = v
	}
	// auth.NewClaimMapping parses the pairs, as main builds the mapping.
	v, _ := lookup("USER_JWT_ATTRIBUTES")
	if strings.TrimSpace(v) != "" && c.UserJWTTTL == 0 {
		return errors.New("USER_JWT_ATTRIBUTES: set while USER_JWT_TTL=0 issues no JWT to sign them into")
	}
	c.Claims.Attributes = v
	return nil
}

// usersFile applies the default USERS_FILE where it is allowed: password
// mode on the local server without Cognito, with every secret literal. The
// demo users' passwords are in the repository; beside a real secret from
// Secrets Manager they would let anyone sign in as a demo user and get a
// real hash, so there USERS_FILE must be given.
func (c *Config) usersFile() error {
	if c.Mode != ModePassword || c.InLambda || c.CognitoClientID != "" || c.UsersFile != "" {
		return nil
	}
	for _, p := range Platforms {
		if _, ok := c.SecretIDs[p]; ok {
			return fmt.Errorf("USERS_FILE: password mode with %s_SECRET_ID reads a real secret, so it needs your own users file; the demo users' passwords are public", strings.ToUpper(p))
		}
	}
	c.UsersFile = DefaultUsersFile
	return nil
}

// lifetimes reads how long a secret lives on in the user-hash function
// after it is fetched: SECRET_CACHE_TTL, SECRET_MAX_STALE and
// USER_JWT_TTL. The rotation function reads the same variables with the
// same defaults, to know when a retired secret is out of use.
func lifetimes(env func(string) string) (ttl, maxStale, jwtTTL time.Duration, err error) {
	if ttl, err = duration(env, "SECRET_CACHE_TTL", 5*time.Minute, time.Second); err != nil {
		return
	}
	if maxStale, err = duration(env, "SECRET_MAX_STALE", time.Hour, 0); err != nil {
		return
	}
	if jwtTTL, err = duration(env, "USER_JWT_TTL", time.Hour, 0); err != nil {
		return
	}
	if jwtTTL > 0 && jwtTTL < time.Second {
		err = errors.New("USER_JWT_TTL: must be 0 (no JWT) or at least 1s")
	}
	return
}

// duration parses a Go duration, or returns def when the variable is unset.
func duration(env func(string) string, name string, def, floor time.Duration) (time.Duration, error) {
	v := env(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration (like 5m or 30s)", name, v)
	}
	if d < floor {
		return 0, fmt.Errorf("%s: %s is less than the minimum %s", name, v, floor)
	}
	return d, nil
}

func logLevel(name, v string) (slog.Level, error) {
	switch strings.ToLower(v) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug", "trace":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error", "fatal":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%s: %q is not a level; use debug, info, warn or error", name, v)
}

// ParseSecretID splits a Secrets Manager reference as the *_SECRET_ID
// variables write it: "ID", or "ID#key" for the field key of a JSON
// SecretString. Secret names and ARNs cannot contain '#', so the split is
// unambiguous.
func ParseSecretID(s string) (id, key string, err error) {
	id, key, hasKey := strings.Cut(s, "#")
	switch {
	case id == "":
		return "", "", errors.New("empty secret ID")
	case hasKey && key == "":
		return "", "", errors.New("empty key after '#'")
	case strings.ContainsAny(id, " \t\r\n"):
		return "", "", errors.New("secret ID contains white space")
	}
	return id, key, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
