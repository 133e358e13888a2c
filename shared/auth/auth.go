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
	// ErrThrottled means the identity provider refused the sign-in for the
	// request rate.
	ErrThrottled = errors.New("identity provider throttled the sign-in")
)

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
