// Package auth decides who the caller is. The identity that gets hashed comes
// only from here: from claims an authorizer verified, or from a password
// check, never from the request body.
//
//	m := auth.DefaultClaimMapping() // sub, email, email_verified
//	id := m.Identity(claims)        // auth.Identity{UserID: claims["sub"], Email: claims["email"]}
//	// id.Email is "" unless claims["email_verified"] is "true"
//
//	// USER_ID_CLAIM, EMAIL_CLAIM, EMAIL_VERIFIED_CLAIM, USER_JWT_ATTRIBUTES as config reads them:
//	m, err := auth.NewClaimMapping("sub", "email", "email_verified", false, "name=name,plan=custom:plan")
//	// m.Identity(claims).Attributes: {"name": claims["name"], "plan": claims["custom:plan"]}
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

// Identity is what Intercom is told about the user. Either of UserID and
// Email may be empty; both empty is an anonymous user, who gets no hash.
// Email is only ever a proven address: verified by the token's issuer, or
// the operator's own in the users file.
type Identity struct {
	UserID string
	Email  string
	// Attributes are the user attributes signed into the Intercom JWT
	// (USER_JWT_ATTRIBUTES), by attribute name; nil when there are none.
	// They never change the hash or the response body.
	Attributes map[string]string
}

// Anonymous reports whether neither a user_id nor a (verified) email is
// known.
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
// errors.Is sees its Reason, ErrThrottled or ErrUnavailable; Wait is how
// long the client should wait before it tries again. Err, for the log,
// never holds a credential.
type TryLaterError struct {
	Reason error
	Wait   time.Duration
	Err    error
}

// RetryAfter is how long the client should wait before it tries again.
func (e *TryLaterError) RetryAfter() time.Duration { return e.Wait }

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

// DefaultEmailVerifiedClaim is the claim that says the email is verified
// when EMAIL_VERIFIED_CLAIM is not set: OpenID Connect's, which Cognito,
// Auth0, Okta, Google and Firebase tokens carry.
const DefaultEmailVerifiedClaim = "email_verified"

// ClaimMapping says which verified claims make the identity. Only claims
// the user cannot set are proof: the email counts only when its
// verification claim says so, and the zero value of the verification
// fields is the strict default.
type ClaimMapping struct {
	UserID string // USER_ID_CLAIM, "sub" by default
	Email  string // EMAIL_CLAIM, "email" by default
	// EmailVerified is the claim that must be true (JSON true, or the
	// string "true" as API Gateway passes it) for the email to count:
	// EMAIL_VERIFIED_CLAIM, DefaultEmailVerifiedClaim when empty.
	EmailVerified string
	// IssuerVerifiesEmails declares that the issuer puts only verified
	// emails in its tokens (EMAIL_VERIFIED_CLAIM set to ""), so no claim
	// is read for it: the operator's word, not a check.
	IssuerVerifiesEmails bool
	// Attributes are the JWT's signed attributes and the claims they are
	// read from (USER_JWT_ATTRIBUTES), in order.
	Attributes []Attribute
}

// DefaultClaimMapping returns the mapping when nothing is configured.
func DefaultClaimMapping() ClaimMapping {
	return ClaimMapping{UserID: "sub", Email: "email", EmailVerified: DefaultEmailVerifiedClaim}
}

// NewClaimMapping builds the mapping from the claim settings as config
// reads them, the fields of the same names and attributes, which is
// USER_JWT_ATTRIBUTES as written. Its error, for attributes ParseAttributes
// refuses, names that variable.
func NewClaimMapping(userID, email, emailVerified string, issuerVerifiesEmails bool, attributes string) (ClaimMapping, error) {
	attrs, err := ParseAttributes(attributes)
	if err != nil {
		return ClaimMapping{}, fmt.Errorf("USER_JWT_ATTRIBUTES: %v", err)
	}
	return ClaimMapping{UserID: userID, Email: email, EmailVerified: emailVerified, IssuerVerifiesEmails: issuerVerifiesEmails, Attributes: attrs}, nil
}

// Identity returns the identity the claims carry, claims as API Gateway
// passes them (strings; see ClaimStrings). A missing or empty claim is an
// unknown field; values are taken exactly as given. The email is unknown
// unless it is verified, and then so is every attribute read from the
// email's claim. An attribute whose claim is missing or empty is left out.
func (m ClaimMapping) Identity(claims map[string]string) Identity {
	id := Identity{UserID: claims[m.UserID]}
	verified := m.emailVerified(claims)
	if verified {
		id.Email = claims[m.Email]
	}
	for _, a := range m.Attributes {
		v := claims[a.Claim]
		if v == "" || (a.Claim == m.Email && !verified) {
			continue
		}
		if id.Attributes == nil {
			id.Attributes = make(map[string]string, len(m.Attributes))
		}
		id.Attributes[a.Name] = v
	}
	return id
}

// emailVerified reports whether the claims vouch for the email. The claim
// is JSON true or the string "true" before API Gateway (or ClaimStrings)
// turns it into the string "true"; anything else, "True", "1", "yes", an
// array, is not a yes.
func (m ClaimMapping) emailVerified(claims map[string]string) bool {
	if m.IssuerVerifiesEmails {
		return true
	}
	name := m.EmailVerified
	if name == "" {
		name = DefaultEmailVerifiedClaim
	}
	return claims[name] == "true"
}
