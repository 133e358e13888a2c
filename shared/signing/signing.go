// Package signing makes what Intercom's identity verification checks: the
// user hash and the Messenger Security JWT, both keyed with the secret of the
// platform the app runs on.
//
//	hash := signing.UserHash(secret, "u-123") // 64 lowercase hex digits
//	tok, exp, err := signing.UserJWT(secret, "u-123", "a@example.com", time.Now(), time.Hour)
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

// Claims are the claims of Intercom's Messenger Security JWT.
type Claims struct {
	UserID string `json:"user_id"`
	Email  string `json:"email,omitempty"`
	jwt.RegisteredClaims
}

// UserJWT returns an HS256 JWT for Intercom's Messenger Security with the
// claims user_id, email (when not empty), iat = now and exp = now + ttl, and
// the expiry it carries. Times are whole seconds, as JWT numeric dates are.
func UserJWT(secret []byte, userID, email string, now time.Time, ttl time.Duration) (string, time.Time, error) {
	if userID == "" {
		return "", time.Time{}, ErrNoUserID
	}
	if len(secret) == 0 {
		return "", time.Time{}, ErrNoSecret
	}
	iat := now.Truncate(time.Second)
	exp := iat.Add(ttl).Truncate(time.Second)
	claims := Claims{
		UserID: userID,
		Email:  email,
		RegisteredClaims: jwt.RegisteredClaims{
			IssuedAt:  jwt.NewNumericDate(iat),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, exp.UTC(), nil
}
