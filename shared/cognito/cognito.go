// Package cognito signs users in with a password against an Amazon Cognito
// user pool (InitiateAuth, USER_PASSWORD_AUTH): password mode in AWS.
//
//	client := cognito.NewClient(aws.Cognito()) // aws from awsenv.Load; two attempts at most, each bounded
//	signIn := cognito.New(client, clientID, // COGNITO_CLIENT_ID
//		cognito.WithClaimMapping(claims), // auth.NewClaimMapping of the claim settings
//		cognito.WithClientSecret(cache, ref)) // only if the app client has a secret
//	id, err := signIn.SignIn(ctx, username, password)
//
// SignIn returns auth.ErrUnauthenticated for a wrong password and an
// unknown user alike (the same value, whatever Cognito said); an
// *auth.TryLaterError of auth.ErrThrottled when Cognito throttles or has
// locked the account after too many wrong passwords, and of
// auth.ErrUnavailable when Cognito fails (5xx, network) or does not answer
// in time; *auth.ChallengeError when Cognito wants a further step; and
// otherwise an error for the log only. No error's text contains the
// username or password, even where Cognito's message would.
//
// A whole sign-in, the app client's secret and a retry included, is
// bounded by DefaultTimeout and by the caller's deadline less
// DeadlineMargin, whichever comes first: a hung Cognito answers 503 well
// before the Lambda function times out, never the gateway's opaque 500.
//
// Each InitiateAuth carries the caller's UserContextData (auth.CallerFrom):
// the app's EncodedData, and the caller's IP when the app client has a
// secret, the only kind Cognito takes an IP from. Threat protection then
// judges the user's address and device, not Lambda's.
//
// The identity comes from the claims of the ID token Cognito returns, and
// only from there, read through the same claim mapping as the gateway's
// claims in jwt mode: its email counts only when the token's
// email_verified is true, and the signed JWT attributes are its claims.
package cognito

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"

	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// InitiateAuthAPI is the one Cognito call this package makes;
// *cognitoidentityprovider.Client satisfies it.
type InitiateAuthAPI interface {
	InitiateAuth(ctx context.Context, in *cip.InitiateAuthInput, optFns ...func(*cip.Options)) (*cip.InitiateAuthOutput, error)
}

// SecretGetter supplies the app client's secret; *secrets.Cache satisfies
// it, so the secret is cached and refreshed like the platform secrets.
type SecretGetter interface {
	Get(ctx context.Context, ref secrets.Ref) ([]byte, error)
}

// The time bounds of a sign-in. The function's timeout (10 s in
// template.yaml) holds a whole sign-in, the platform secret's fetch after
// it (secrets.DefaultAttemptTimeout) and the answer.
const (
	// DefaultTimeout bounds a whole SignIn: the app client's secret, both
	// InitiateAuth attempts (AttemptTimeout each) and the pause between.
	DefaultTimeout = 5 * time.Second
	// DeadlineMargin is kept free before the caller's deadline (the Lambda
	// invocation's) for what follows the sign-in and for the answer.
	DeadlineMargin = time.Second
)

// How long a client is told to wait (Retry-After) before it signs in
// again.
const (
	// RetryAfterThrottle follows a throttle of the pool's request rate,
	// which clears within a second or so.
	RetryAfterThrottle = time.Second
	// RetryAfterLockout follows "Password attempts exceeded". Cognito locks
	// the user out after five wrong passwords for one second, doubling
	// with each further failure up to about 15 minutes, and does not say
	// how long is left; a minute covers the common case without telling a
	// user who only mistyped a few times to come back in a quarter hour.
	RetryAfterLockout = time.Minute
	// RetryAfterUnavailable follows a 5xx, a network error or a timeout.
	RetryAfterUnavailable = 5 * time.Second
)

// ErrBadIDToken means Cognito signed the user in but its ID token could not
// be read, or was not an ID token for this app client.
var ErrBadIDToken = errors.New("cognito returned an unusable ID token")

// Authenticator checks passwords against one user pool app client. It is
// safe for concurrent use.
type Authenticator struct {
	api       InitiateAuthAPI
	clientID  string
	mapping   auth.ClaimMapping
	secret    SecretGetter
	secretRef secrets.Ref
	timeout   time.Duration
	margin    time.Duration
}

// Option configures an Authenticator.
type Option func(*Authenticator)

// WithClaimMapping sets which ID token claims carry the user_id, the email
// and its verification, and the signed attributes (USER_ID_CLAIM,
// EMAIL_CLAIM, EMAIL_VERIFIED_CLAIM, USER_JWT_ATTRIBUTES);
// auth.DefaultClaimMapping() otherwise.
func WithClaimMapping(m auth.ClaimMapping) Option { return func(s *Authenticator) { s.mapping = m } }

// WithClientSecret makes every call carry a SECRET_HASH made with the app
// client's secret, read through src at ref (COGNITO_CLIENT_SECRET_ID) on
// each sign-in so that a rotated secret is picked up with the cache's TTL.
func WithClientSecret(src SecretGetter, ref secrets.Ref) Option {
	return func(s *Authenticator) { s.secret, s.secretRef = src, ref }
}

// WithTimeout sets the bound of a whole sign-in (DefaultTimeout otherwise);
// the caller's deadline less the margin, when sooner, bounds it too.
func WithTimeout(d time.Duration) Option { return func(s *Authenticator) { s.timeout = d } }

// WithDeadlineMargin sets how long before the caller's deadline a sign-in
// gives up (DeadlineMargin otherwise).
func WithDeadlineMargin(d time.Duration) Option { return func(s *Authenticator) { s.margin = d } }

// New returns an Authenticator for the app client clientID.
func New(api InitiateAuthAPI, clientID string, opts ...Option) *Authenticator {
	s := &Authenticator{api: api, clientID: clientID, mapping: auth.DefaultClaimMapping(), timeout: DefaultTimeout, margin: DeadlineMargin}
	for _, o := range opts {
		o(s)
	}
	return s
}

// SecretHash is Cognito's SECRET_HASH: Base64(HMAC-SHA256(key = client
// secret, message = username + client ID)).
func SecretHash(clientSecret []byte, username, clientID string) string {
	m := hmac.New(sha256.New, clientSecret)
	m.Write([]byte(username))
	m.Write([]byte(clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// SignIn signs username in with password and returns the identity in the
// ID token's claims. An empty username or password is refused without
// asking Cognito, which would call it a malformed request.
func (s *Authenticator) SignIn(ctx context.Context, username, password string) (auth.Identity, error) {
	if username == "" || password == "" {
		return auth.Identity{}, auth.ErrUnauthenticated
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	params := map[string]string{"USERNAME": username, "PASSWORD": password}
	if s.secret != nil {
		key, err := s.secret.Get(ctx, s.secretRef)
		if err != nil {
			// A *secrets.UnavailableError stays visible to errors.As, so
			// the handler can answer 503 as for a platform secret.
			return auth.Identity{}, fmt.Errorf("cognito: app client secret: %w", err)
		}
		params["SECRET_HASH"] = SecretHash(key, username, s.clientID)
	}
	out, err := s.api.InitiateAuth(ctx, &cip.InitiateAuthInput{
		AuthFlow:        types.AuthFlowTypeUserPasswordAuth,
		ClientId:        aws.String(s.clientID),
		AuthParameters:  params,
		UserContextData: s.userContext(auth.CallerFrom(ctx)),
	})
	if err != nil {
		return auth.Identity{}, mapError(err, username, password)
	}
	if out.ChallengeName != "" {
		return auth.Identity{}, &auth.ChallengeError{Challenge: string(out.ChallengeName)}
	}
	if out.AuthenticationResult == nil || aws.ToString(out.AuthenticationResult.IdToken) == "" {
		return auth.Identity{}, fmt.Errorf("%w: neither tokens nor a challenge in the answer", ErrBadIDToken)
	}
	claims, err := s.idTokenClaims(aws.ToString(out.AuthenticationResult.IdToken))
	if err != nil {
		return auth.Identity{}, err
	}
	return s.mapping.Identity(claims), nil
}

// userContext is the caller's UserContextData, as Cognito documents it for
// a sign-in made by a server: the app's EncodedData when it sent one, and
// the caller's IP where Cognito takes it, from an app client with a secret
// (only such a client can have EnablePropagateAdditionalUserContextData).
// nil when there is nothing to pass on.
func (s *Authenticator) userContext(c auth.Caller) *types.UserContextDataType {
	ip := c.IP
	if s.secret == nil {
		ip = ""
	}
	if ip == "" && c.EncodedData == "" {
		return nil
	}
	u := &types.UserContextDataType{}
	if ip != "" {
		u.IpAddress = aws.String(ip)
	}
	if c.EncodedData != "" {
		u.EncodedData = aws.String(c.EncodedData)
	}
	return u
}

// bound returns ctx limited to the sign-in's time: the timeout from now,
// or the caller's deadline less the margin if that is sooner. With no time
// left at all the context is already done, and the sign-in answers
// unavailable at once rather than start a call it cannot finish.
func (s *Authenticator) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(s.timeout)
	if d, ok := ctx.Deadline(); ok && d.Add(-s.margin).Before(deadline) {
		deadline = d.Add(-s.margin)
	}
	return context.WithDeadline(ctx, deadline)
}

// idTokenClaims reads the claims of the ID token without checking its
// signature. The token came straight from Cognito, over TLS, in the answer
// to our own request, which is the case where OpenID Connect Core (3.1.3.7)
// lets TLS stand in for the signature. Checking it would need the pool's
// JWKS, fetched from the internet by a function that otherwise needs only
// the Cognito and Secrets Manager endpoints. What is checked is that it is
// an ID token (token_use) for this app client (aud), which catches a
// misconfigured client ID rather than an attacker.
func (s *Authenticator) idTokenClaims(token string) (map[string]string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: not a JWS compact serialization", ErrBadIDToken)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64url", ErrBadIDToken)
	}
	claims, err := auth.ClaimStrings(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadIDToken, err)
	}
	if claims["token_use"] != "id" {
		return nil, fmt.Errorf("%w: token_use is %q, not \"id\"", ErrBadIDToken, claims["token_use"])
	}
	// aud arrives flattened: "x" for a string, "[x y]" for an array.
	aud := claims["aud"]
	if aud != s.clientID && !slices.Contains(strings.Fields(strings.Trim(aud, "[]")), s.clientID) {
		return nil, fmt.Errorf("%w: aud is not the app client %s", ErrBadIDToken, s.clientID)
	}
	return claims, nil
}

// mapError turns an InitiateAuth failure into the errors of package auth.
// It goes by the error code rather than by the SDK's typed errors because
// Cognito sends LimitExceededException, which the SDK does not model for
// InitiateAuth and so hands over as a generic API error.
//
// Only NotAuthorizedException and UserNotFoundException mean "wrong
// credentials", and both give the same value. UserNotConfirmedException
// and PasswordResetRequiredException give it too, wrapped with the reason
// for the log: telling the client would tell it that the account exists.
// Challenges are reported only when Cognito answers one in place of tokens,
// which it does after the password proved right.
//
// NotAuthorizedException also carries two other refusals, told apart only
// by the message: "Password attempts exceeded", Cognito's lockout after
// repeated wrong passwords, which is a 429 and not the user's wrong
// password; and a wrong or missing SECRET_HASH, which is our
// misconfiguration, not the user's mistake, so an internal error.
//
// A 5xx (InternalErrorException or an unmodeled one), a network error or
// the sign-in's time bound is auth.ErrUnavailable: Cognito is down or slow,
// and the app should try again later.
func mapError(err error, username, password string) error {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		if unavailable(err) {
			return &auth.TryLaterError{Reason: auth.ErrUnavailable, Wait: RetryAfterUnavailable, Err: newProviderError(err, username, password)}
		}
		return newProviderError(err, username, password)
	}
	switch code := apiErr.ErrorCode(); code {
	case "NotAuthorizedException":
		msg := strings.ToLower(apiErr.ErrorMessage())
		switch {
		case strings.Contains(msg, "password attempts exceeded"):
			return &auth.TryLaterError{Reason: auth.ErrThrottled, Wait: RetryAfterLockout, Err: errors.New("cognito: NotAuthorizedException: password attempts exceeded (the account is locked for now)")}
		case strings.Contains(msg, "secret"):
			return newProviderError(err, username, password)
		}
		return auth.ErrUnauthenticated
	case "UserNotFoundException":
		return auth.ErrUnauthenticated
	case "TooManyFailedAttemptsException":
		return &auth.TryLaterError{Reason: auth.ErrThrottled, Wait: RetryAfterLockout, Err: fmt.Errorf("cognito: %s", code)}
	case "TooManyRequestsException", "LimitExceededException":
		return &auth.TryLaterError{Reason: auth.ErrThrottled, Wait: RetryAfterThrottle, Err: fmt.Errorf("cognito: %s", code)}
	case "UserNotConfirmedException", "PasswordResetRequiredException":
		return fmt.Errorf("cognito: %s: %w", code, auth.ErrUnauthenticated)
	}
	if unavailable(err) {
		return &auth.TryLaterError{Reason: auth.ErrUnavailable, Wait: RetryAfterUnavailable, Err: newProviderError(err, username, password)}
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusTooManyRequests {
		return &auth.TryLaterError{Reason: auth.ErrThrottled, Wait: RetryAfterThrottle, Err: newProviderError(err, username, password)}
	}
	return newProviderError(err, username, password)
}

// unavailable reports whether err says that Cognito could not be reached or
// failed on its side: the time bound passed (or the caller went away), the
// connection failed, or the answer was a 5xx.
func unavailable(err error) bool {
	var (
		internal *types.InternalErrorException
		resp     *awshttp.ResponseError
		netErr   net.Error
		sendErr  interface{ ConnectionError() bool }
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return true
	case errors.As(err, &internal):
		return true
	case errors.As(err, &resp) && resp.HTTPStatusCode() >= 500:
		return true
	case errors.As(err, &sendErr) && sendErr.ConnectionError():
		return true
	case errors.As(err, &netErr):
		return true
	}
	return false
}

// ProviderError is any other InitiateAuth failure: Cognito's own errors
// (a wrong client ID, the flow not enabled, an outage) and network ones.
// Its text is for the log, with the username and password cut out wherever
// they appear; Unwrap gives the SDK's error for errors.As.
type ProviderError struct {
	text string
	err  error
}

func newProviderError(err error, username, password string) *ProviderError {
	text := err.Error()
	// Longest first, so that a password containing the username (or the
	// reverse) is not left half redacted.
	for _, s := range slices.SortedFunc(slices.Values([]string{username, password}), func(a, b string) int { return len(b) - len(a) }) {
		text = strings.ReplaceAll(text, s, "[redacted]")
	}
	return &ProviderError{text: "cognito InitiateAuth: " + text, err: err}
}

func (e *ProviderError) Error() string { return e.text }
func (e *ProviderError) Unwrap() error { return e.err }
