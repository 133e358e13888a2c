// Package signing makes what Intercom's identity verification checks: the
// user hash and the Messenger Security JWT, both keyed with the secret of the
// platform the app runs on.
//
//	hash := signing.UserHash(secret, "u-123") // 64 lowercase hex digits
//	tok, exp, err := signing.UserJWT(secret, "u-123", "a@example.com", time.Now(), time.Hour)
//	// with signed user attributes, which Intercom trusts as the server's:
//	tok, exp, err = signing.UserJWT(secret, "u-123", "", time.Now(), time.Hour,
//		signing.WithAttributes(map[string]string{"name": "Alice", "plan": "pro"}))
//
// The identifier is hashed byte for byte as the app will send it to
// Intercom: no trimming, no case folding. Identifier picks the user_id over
// the email, as Intercom does.
package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// ErrNoUserID is returned by UserJWT when there is no user_id to put in the
// token: Intercom's JWT requires one.
var ErrNoUserID = errors.New("user_jwt needs a user_id")

// ErrNoSecret is returned when the secret is empty: an empty HMAC key would
// make a hash anybody can compute.
var ErrNoSecret = errors.New("empty signing secret")

// UserHash returns the lowercase hex HMAC-SHA256 of identifier keyed with
// secret: Intercom's user_hash.
func UserHash(secret []byte, identifier string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(identifier))
	var sum [sha256.Size]byte
	return hex.EncodeToString(mac.Sum(sum[:0]))
}

// Identifier returns what Intercom expects the hash to be over: the user_id
// when there is one, even if an email is known too, else the email. It
// returns "" for an anonymous user, who gets no hash.
func Identifier(userID, email string) string {
	if userID != "" {
		return userID
	}
	return email
}

// reserved are the payload's own claims: Intercom's user_id and email and
// the registered claims of RFC 7519. A signed attribute may not take one of
// these names, whatever its case.
var reserved = []string{"user_id", "email", "iat", "exp", "nbf", "iss", "aud", "sub", "jti"}

// Reserved reports whether name is one of the JWT's own claims (user_id,
// email, iat, exp, nbf, iss, aud, sub, jti), compared without regard to
// case, so that it cannot be a signed attribute.
func Reserved(name string) bool {
	for _, r := range reserved {
		if strings.EqualFold(name, r) {
			return true
		}
	}
	return false
}

// ErrReservedAttribute is returned by UserJWT for an attribute named like
// one of the payload's own claims: it would replace the user_id, the email
// or a time that Intercom checks.
var ErrReservedAttribute = errors.New("a signed attribute has the name of one of the JWT's own claims")

// Claims are the claims of Intercom's Messenger Security JWT that identify
// the user: the whole payload of a JWT without signed attributes, and what
// a reader of any of them needs (signed attributes sit beside these).
type Claims struct {
	UserID string `json:"user_id"`
	Email  string `json:"email,omitempty"`
	jwt.RegisteredClaims
}

// JWTOption adds to the JWT that UserJWT makes. (A value rather than a
// function, so that passing one costs the warm path no allocation.)
type JWTOption struct {
	attributes map[string]string
}

// WithAttributes puts attrs at the top level of the JWT's payload, as
// Intercom reads signed user attributes ("name", "plan", ...). Intercom
// trusts them as coming from the server, so they must come only from what
// the user cannot set. A nil or empty map adds nothing.
func WithAttributes(attrs map[string]string) JWTOption {
	return JWTOption{attributes: attrs}
}

// UserJWT returns an HS256 JWT for Intercom's Messenger Security with the
// claims user_id, email (when not empty), iat = now and exp = now + ttl,
// and any attributes given with WithAttributes, and the expiry it carries.
// Times are whole seconds, as JWT numeric dates are.
func UserJWT(secret []byte, userID, email string, now time.Time, ttl time.Duration, opts ...JWTOption) (string, time.Time, error) {
	if userID == "" {
		return "", time.Time{}, ErrNoUserID
	}
	if len(secret) == 0 {
		return "", time.Time{}, ErrNoSecret
	}
	var attrs map[string]string
	for _, o := range opts {
		if o.attributes != nil {
			attrs = o.attributes
		}
	}
	iat := now.Truncate(time.Second)
	exp := iat.Add(ttl).Truncate(time.Second)
	var claims jwt.Claims = Claims{
		UserID: userID,
		Email:  email,
		RegisteredClaims: jwt.RegisteredClaims{
			IssuedAt:  jwt.NewNumericDate(iat),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	if len(attrs) > 0 {
		// A map for the attributes' names, which a struct cannot have;
		// without attributes the struct keeps the warm path's
		// allocations down (13 fewer per token).
		m := make(jwt.MapClaims, len(attrs)+4)
		for name, value := range attrs {
			if Reserved(name) {
				return "", time.Time{}, fmt.Errorf("%w: %q", ErrReservedAttribute, name)
			}
			m[name] = value
		}
		m["user_id"] = userID
		if email != "" {
			m["email"] = email
		}
		m["iat"] = jwt.NewNumericDate(iat)
		m["exp"] = jwt.NewNumericDate(exp)
		claims = m
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, exp.UTC(), nil
}
