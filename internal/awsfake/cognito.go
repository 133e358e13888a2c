// A Cognito user pool fake: InitiateAuth with USER_PASSWORD_AUTH over the
// awsJson1.1 protocol, for the real aws-sdk-go-v2 client. Unlike moto it
// checks the SECRET_HASH it receives, so a test proves that the sign-in
// computes it right; it mints RS256 ID tokens, and answers challenges and
// errors on demand.

package awsfake

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The errors Cognito answers InitiateAuth with, as it sends them.
var (
	CognitoNotAuthorized = &Error{Status: http.StatusBadRequest, Type: "NotAuthorizedException", Message: "Incorrect username or password."}
	// CognitoPasswordAttemptsExceeded is Cognito's lockout after repeated
	// wrong passwords: the same exception as a wrong password, told apart
	// only by its message.
	CognitoPasswordAttemptsExceeded = &Error{Status: http.StatusBadRequest, Type: "NotAuthorizedException", Message: "Password attempts exceeded"}
	CognitoUserNotFound             = &Error{Status: http.StatusBadRequest, Type: "UserNotFoundException", Message: "User does not exist."}
	CognitoTooManyRequests          = &Error{Status: http.StatusBadRequest, Type: "TooManyRequestsException", Message: "Rate exceeded"}
	CognitoLimitExceeded            = &Error{Status: http.StatusBadRequest, Type: "LimitExceededException", Message: "Attempt limit exceeded, please try after some time."}
	CognitoPasswordResetRequired    = &Error{Status: http.StatusBadRequest, Type: "PasswordResetRequiredException", Message: "Password reset required for the user"}
	CognitoUserNotConfirmed         = &Error{Status: http.StatusBadRequest, Type: "UserNotConfirmedException", Message: "User is not confirmed."}
	CognitoInternalError            = &Error{Status: http.StatusInternalServerError, Type: "InternalErrorException", Message: "An internal error occurred"}
	// CognitoServiceUnavailable is a 503 with no modeled error type, as a
	// load balancer in front of the service might answer.
	CognitoServiceUnavailable = &Error{Status: http.StatusServiceUnavailable, Type: "ServiceUnavailable", Message: "Service Unavailable"}
	CognitoInvalidParameter   = &Error{Status: http.StatusBadRequest, Type: "InvalidParameterException", Message: "USER_PASSWORD_AUTH flow not enabled for this client"}
)

// CognitoUser is one user of the fake pool.
type CognitoUser struct {
	Password string
	// Claims go into the ID token beside iss, aud, token_use, auth_time,
	// iat and exp; for example "sub", "email", "custom:intercom_id". They
	// override those, so a test can forge an ID token for another client.
	Claims map[string]any
	// Challenge, if set, is answered in place of tokens once the password
	// is right, e.g. "SOFTWARE_TOKEN_MFA" or "NEW_PASSWORD_REQUIRED".
	Challenge string
}

// CognitoCall is what the fake saw in one InitiateAuth call. It keeps no
// password.
type CognitoCall struct {
	ClientID   string
	AuthFlow   string
	Username   string
	SecretHash string // as received; "" when absent
	// UserContextData as received; "" when absent.
	IPAddress, EncodedData string
}

// Cognito is a user pool with one app client. With a client secret, every
// InitiateAuth must carry SECRET_HASH = Base64(HMAC-SHA256(secret,
// username + client ID)) or is refused as Cognito refuses it.
//
//	pool := awsfake.NewCognito("client-1", "client-secret") // "" for no secret
//	pool.AddUser("alice", awsfake.CognitoUser{Password: "pw", Claims: map[string]any{"sub": "u-1"}})
//	url := pool.Start(t) // or t.Setenv("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", url)
//	pool.Fail(awsfake.CognitoTooManyRequests)
//	pool.Hang(1)    // the next call never answers; -1: every call
//	pool.Drop(true) // every call has its connection closed unanswered
//	pool.Calls() // what was sent
//
// It is safe for concurrent use.
type Cognito struct {
	// Issuer is the iss of minted tokens.
	Issuer string
	// Now is the clock for iat and exp.
	Now func() time.Time

	clientID, secret string
	key              *rsa.PrivateKey

	mu       sync.Mutex
	users    map[string]CognitoUser
	fail     *Error
	calls    []CognitoCall
	requests int  // HTTP requests, hung and dropped ones included
	hang     int  // how many of the next requests hang; < 0: all
	drop     bool // close each request's connection without an answer

	release chan struct{} // closed when the test ends, to free hung requests
	once    sync.Once
}

// NewCognito returns a pool whose app client is clientID, with secret as its
// client secret ("" for an app client without one).
func NewCognito(clientID, secret string) *Cognito {
	return &Cognito{
		Issuer:   "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Fake",
		Now:      time.Now,
		clientID: clientID,
		secret:   secret,
		users:    map[string]CognitoUser{},
		release:  make(chan struct{}),
	}
}

// AddUser adds or replaces a user.
func (c *Cognito) AddUser(username string, u CognitoUser) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users[username] = u
}

// Fail makes every later call answer e (after the client and SECRET_HASH
// checks, as a throttle would); nil serves again.
func (c *Cognito) Fail(e *Error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail = e
}

// Hang makes the next n requests (every one, for n < 0; none, for 0) wait
// without answering until the client gives up or the test ends: a Cognito
// that accepted the connection and never answered.
func (c *Cognito) Hang(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hang = n
}

// Drop makes every request (until Drop(false)) have its connection closed
// without an answer: a network failure as the client sees it.
func (c *Cognito) Drop(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop = on
}

// Requests returns how many HTTP requests arrived, hung and dropped ones
// included: the client's attempts.
func (c *Cognito) Requests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests
}

// Calls returns the InitiateAuth calls received so far.
func (c *Cognito) Calls() []CognitoCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]CognitoCall(nil), c.calls...)
}

// PublicKey is the key the ID tokens are signed with; nil before Start.
func (c *Cognito) PublicKey() *rsa.PublicKey {
	if c.key == nil {
		return nil
	}
	return &c.key.PublicKey
}

// Start makes the pool's signing key and serves the fake on a loopback
// httptest server that stops when the test ends. It returns the URL, for
// the client's BaseEndpoint or AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER.
func (c *Cognito) Start(t testing.TB) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("awsfake: generate the Cognito signing key: %v", err)
	}
	c.key = key
	srv := httptest.NewServer(c)
	// Cleanups run last-in first-out: hung requests are freed before
	// Close waits for them.
	t.Cleanup(srv.Close)
	t.Cleanup(func() { c.once.Do(func() { close(c.release) }) })
	return srv.URL
}

// ServeHTTP answers the awsJson1.1 protocol, or hangs or drops the request
// when told to.
func (c *Cognito) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.requests++
	hang := c.hang != 0
	if c.hang > 0 {
		c.hang--
	}
	drop := c.drop
	c.mu.Unlock()
	switch {
	case hang:
		select {
		case <-r.Context().Done(): // the client gave up
		case <-c.release:
		}
		return
	case drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection unanswered
	}
	Handler(c.op).ServeHTTP(w, r)
}

type initiateAuthInput struct {
	AuthFlow        string
	ClientId        string
	AuthParameters  map[string]string
	UserContextData struct{ IpAddress, EncodedData string }
}

func (c *Cognito) op(target string, body []byte) (any, *Error) {
	if target != "AWSCognitoIdentityProviderService.InitiateAuth" {
		return nil, &Error{Status: http.StatusBadRequest, Type: "UnknownOperationException", Message: "only InitiateAuth is faked"}
	}
	var in initiateAuthInput
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Type: "SerializationException", Message: "bad JSON"}
	}
	username, password := in.AuthParameters["USERNAME"], in.AuthParameters["PASSWORD"]
	hash, hasHash := in.AuthParameters["SECRET_HASH"]

	c.mu.Lock()
	c.calls = append(c.calls, CognitoCall{ClientID: in.ClientId, AuthFlow: in.AuthFlow, Username: username, SecretHash: hash,
		IPAddress: in.UserContextData.IpAddress, EncodedData: in.UserContextData.EncodedData})
	user, known := c.users[username]
	fail := c.fail
	c.mu.Unlock()

	switch {
	case in.ClientId != c.clientID:
		return nil, &Error{Status: http.StatusBadRequest, Type: "ResourceNotFoundException", Message: "User pool client does not exist."}
	case in.AuthFlow != "USER_PASSWORD_AUTH":
		return nil, CognitoInvalidParameter
	case username == "" || password == "":
		return nil, &Error{Status: http.StatusBadRequest, Type: "InvalidParameterException", Message: "Missing required parameter USERNAME or PASSWORD"}
	case c.secret != "" && !hasHash:
		return nil, &Error{Status: http.StatusBadRequest, Type: "NotAuthorizedException", Message: "Client " + c.clientID + " is configured for secret but secret was not received"}
	case c.secret != "" && !hmac.Equal([]byte(hash), []byte(c.secretHash(username))):
		return nil, &Error{Status: http.StatusBadRequest, Type: "NotAuthorizedException", Message: "Unable to verify secret hash for client " + c.clientID}
	case c.secret == "" && hasHash:
		// Cognito would ignore it; the fake refuses, so that a sign-in
		// that sends a hash it has no secret for is caught.
		return nil, &Error{Status: http.StatusBadRequest, Type: "InvalidParameterException", Message: "SECRET_HASH sent for a client without a secret"}
	case fail != nil:
		return nil, fail
	case !known:
		return nil, CognitoUserNotFound
	case !hmac.Equal([]byte(password), []byte(user.Password)):
		return nil, CognitoNotAuthorized
	case user.Challenge != "":
		return map[string]any{
			"ChallengeName":       user.Challenge,
			"ChallengeParameters": map[string]string{"USER_ID_FOR_SRP": username},
			"Session":             rand.Text(),
		}, nil
	}
	now := c.Now()
	idToken, err := c.mint(now, "id", user.Claims)
	if err != nil {
		return nil, &Error{Status: http.StatusInternalServerError, Type: "InternalErrorException", Message: err.Error()}
	}
	access, err := c.mint(now, "access", map[string]any{"sub": user.Claims["sub"], "username": username})
	if err != nil {
		return nil, &Error{Status: http.StatusInternalServerError, Type: "InternalErrorException", Message: err.Error()}
	}
	return map[string]any{
		"AuthenticationResult": map[string]any{
			"IdToken":      idToken,
			"AccessToken":  access,
			"RefreshToken": rand.Text(),
			"ExpiresIn":    3600,
			"TokenType":    "Bearer",
		},
		"ChallengeParameters": map[string]string{},
	}, nil
}

// secretHash is the fake's own computation of SECRET_HASH, kept apart from
// the code under test so that a shared mistake cannot pass.
func (c *Cognito) secretHash(username string) string {
	m := hmac.New(sha256.New, []byte(c.secret))
	m.Write([]byte(username + c.clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// mint signs a token as a user pool does: an ID token carries aud, an
// access token client_id.
func (c *Cognito) mint(now time.Time, use string, extra map[string]any) (string, error) {
	if c.key == nil {
		return "", errors.New("awsfake: serve the Cognito fake with Start, which makes its key")
	}
	claims := jwt.MapClaims{
		"iss":       c.Issuer,
		"token_use": use,
		"auth_time": now.Unix(),
		"iat":       now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
	}
	if use == "id" {
		claims["aud"] = c.clientID
	} else {
		claims["client_id"] = c.clientID
	}
	maps.Copy(claims, extra) // last, so that a test can forge a bad token
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "fake-cognito"
	return tok.SignedString(c.key)
}
