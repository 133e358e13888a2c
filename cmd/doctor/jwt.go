// Diagnosing a user_jwt: which configured secret signed it (HS256 only, with
// golang-jwt, as the function signs it), whether it has expired, and its
// claims as the app must use them.

package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/signing"
)

// errNotSignedBy means a JWT's signature does not verify with a key.
var errNotSignedBy = errors.New("signature does not verify")

// verifyJWT checks that tok is an HS256 JWT signed with secret and returns
// its claims. Times are not checked here: the caller says what an expiry
// means.
func verifyJWT(tok string, secret []byte) (*signing.Claims, error) {
	var c signing.Claims
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithoutClaimsValidation()).
		ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return secret, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, errNotSignedBy
	case err != nil:
		return nil, err
	}
	return &c, nil
}

// jwtForm says what is wrong with the form of tok, or "" when it is an
// HS256 JWT with Intercom's claims: the checks that need no secret.
func jwtForm(tok string) string {
	var c signing.Claims
	t, _, err := jwt.NewParser().ParseUnverified(tok, &c)
	switch {
	case err != nil:
		return "not a JWT with Intercom's claims (three base64url parts; user_id and email strings, exp a number)"
	case t.Method.Alg() != jwt.SigningMethodHS256.Alg():
		return fmt.Sprintf("signed with %s; Intercom's Messenger Security JWT is HS256 with the platform's secret", t.Method.Alg())
	}
	return ""
}

// diagnoseJWT explains tok, which the app sent on platform p; id, when it
// holds identifiers, is what the app passed to Intercom beside it.
func diagnoseJWT(p platform.Platform, id identity, tok string, keys []*key, now time.Time) finding {
	if problem := jwtForm(tok); problem != "" {
		return finding{CauseJWTBadSignature, "" + problem}
	}
	var (
		signer  *key
		claims  *signing.Claims
		missing []string
	)
	for _, k := range keys {
		if k.value == nil {
			missing = append(missing, k.platform.String())
			continue
		}
		c, err := verifyJWT(tok, k.value)
		if err != nil {
			continue
		}
		if signer == nil || k.platform == p {
			signer, claims = k, c
		}
	}
	if signer == nil {
		if len(missing) > 0 {
			return finding{CauseUndetermined, fmt.Sprintf("signed with none of the secrets that could be read; the %s secret could not be read", strings.Join(missing, ", "))}
		}
		return finding{CauseJWTBadSignature, "signed with none of the configured secrets (" + platformsOf(keys) + "): altered, or made with a secret this configuration does not have"}
	}

	detail := fmt.Sprintf("signed with the %s secret (fingerprint %s); %s", signer.platform, fingerprint(signer.value), describeClaims(claims, now))
	switch {
	case signer.platform != p:
		return finding{CauseWrongPlatformSecret, detail + fmt.Sprintf("; but the app runs on %s", p)}
	case claims.ExpiresAt != nil && !now.Before(claims.ExpiresAt.Time):
		return finding{CauseJWTExpired, detail}
	case claims.UserID == "":
		return finding{CauseJWTWithoutUserID, detail + "; Intercom's JWT must carry the user_id the app logs in with"}
	}
	for _, c := range []struct{ name, claim, sent string }{
		{"user_id", claims.UserID, sentOrEmpty(id.userIDSent, id.userID)},
		{"email", claims.Email, sentOrEmpty(id.emailSent, id.email)},
	} {
		if c.sent == "" || c.claim == "" || c.sent == c.claim {
			continue
		}
		if strings.EqualFold(strings.TrimSpace(c.sent), strings.TrimSpace(c.claim)) {
			return finding{CauseIdentifierChanged, detail + fmt.Sprintf("; the app passes the %s to Intercom with another case or white space", c.name)}
		}
		return finding{CauseIdentifierMismatch, detail + fmt.Sprintf("; the app passes another %s to Intercom than the JWT's", c.name)}
	}
	return finding{CauseMatch, detail}
}

func sentOrEmpty(sent bool, v string) string {
	if sent {
		return v
	}
	return ""
}

// describeClaims shows the claims as the app must pass them to Intercom,
// and how long the token has left.
func describeClaims(c *signing.Claims, now time.Time) string {
	s := fmt.Sprintf("log in with user_id %q", c.UserID)
	if c.Email != "" {
		s += fmt.Sprintf(", email %q", c.Email)
	}
	if c.ExpiresAt == nil {
		return s + "; no exp"
	}
	exp := c.ExpiresAt.UTC()
	left := exp.Sub(now).Round(time.Second)
	if left <= 0 {
		return s + fmt.Sprintf("; exp %s, expired %s ago", exp.Format(time.RFC3339), -left)
	}
	return s + fmt.Sprintf("; exp %s, in %s", exp.Format(time.RFC3339), left)
}

func platformsOf(keys []*key) string {
	var s []string
	for _, k := range keys {
		s = append(s, k.platform.String())
	}
	return orNone(s)
}

// checkJWT adds the jwt check and its cause.
func (d *doctor) checkJWT() {
	if d.cfg == nil {
		d.addFinding("jwt", finding{CauseUndetermined, "not checked: the configuration did not load (see config)"})
		return
	}
	id := identity{userID: d.opts.userID, email: d.opts.email, userIDSent: d.opts.userIDSent, emailSent: d.opts.emailSent}
	d.addFinding("jwt", diagnoseJWT(d.opts.platform, id, d.opts.jwt, d.keys, d.now()))
}
