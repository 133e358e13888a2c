// Package auth decides who the caller is. The identity that gets hashed comes
// only from here: from claims an authorizer verified, or from a password
// check, never from the request body.
//
//	m := auth.ClaimMapping{UserID: "sub", Email: "email"}
//	id := m.Identity(claims) // auth.Identity{UserID: claims["sub"], Email: claims["email"]}
//
//	users, err := auth.LoadUsersFile(r) // password mode on the local server
//	id, err := users.SignIn(ctx, "alice", "correct horse")
//
// Failures are the sentinel errors below (and *ChallengeError), so the HTTP
// layer can map them to problem codes without reading error strings.
package auth

import (
	"errors"
	"fmt"
	"time"
)

// Identity is what Intercom is told about the user. Either field may be
// empty; both empty is an anonymous user, who gets no hash.
type Identity struct {
	UserID string
	Email  string
}

// Anonymous reports whether neither a user_id nor an email is known.
func (id Identity) Anonymous() bool { return id.UserID == "" && id.Email == "" }

var (
	// ErrUnauthenticated means the credentials were wrong, the user is
	// unknown, or there is no verified principal. Callers must not tell
	// these apart to the client.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrThrottled means the identity provider refused the sign-in for now:
	// for the request rate, or because the account is locked after too
	// many wrong passwords. Answer 429.
	ErrThrottled = errors.New("identity provider throttled the sign-in")
	// ErrUnavailable means the identity provider failed (a 5xx, a network
	// error) or did not answer within the sign-in's time bound. Answer 503.
	ErrUnavailable = errors.New("identity provider unavailable")
)

// TryLaterError is a sign-in the identity provider turned down for now.
// errors.Is sees its Reason, ErrThrottled or ErrUnavailable; RetryAfter is
// how long the client should wait before it tries again. Err, for the log,
// never holds a credential.
type TryLaterError struct {
	Reason     error
	RetryAfter time.Duration
	Err        error
}

func (e *TryLaterError) Error() string {
	if e.Err == nil {
		return e.Reason.Error()
	}
	return e.Reason.Error() + ": " + e.Err.Error()
}

// Unwrap gives errors.Is and errors.As both the reason and the cause.
func (e *TryLaterError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Err}
}

// ChallengeError means the identity provider wants a further step (MFA, a
// new password) before it issues tokens.
type ChallengeError struct {
	Challenge string // e.g. "SOFTWARE_TOKEN_MFA", "NEW_PASSWORD_REQUIRED"
}

func (e *ChallengeError) Error() string {
	return fmt.Sprintf("identity provider requires the %s challenge", e.Challenge)
}

// ClaimMapping names the claims that carry the Intercom user_id and email.
type ClaimMapping struct {
	UserID string // USER_ID_CLAIM, "sub" by default
	Email  string // EMAIL_CLAIM, "email" by default
}

// DefaultClaimMapping returns the mapping when nothing is configured.
func DefaultClaimMapping() ClaimMapping { return ClaimMapping{UserID: "sub", Email: "email"} }

// Identity returns the identity the claims carry. A missing or empty claim
// is an unknown field; values are taken exactly as given.
func (m ClaimMapping) Identity(claims map[string]string) Identity {
	return Identity{UserID: claims[m.UserID], Email: claims[m.Email]}
}
