// The registered claims the gateway's JWT authorizer checks beyond what
// go-oidc does: the audience rule, nbf and iat.

package oidc

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// standard holds the registered claims this package checks itself.
type standard struct {
	Aud      audience     `json:"aud"`
	ClientID string       `json:"client_id"`
	NotBef   *json.Number `json:"nbf"`
	IssuedAt *json.Number `json:"iat"`
}

func standardClaims(payload []byte) (standard, error) {
	var s standard
	if err := json.Unmarshal(payload, &s); err != nil {
		return standard{}, fmt.Errorf("registered claims: %v", err)
	}
	return s, nil
}

// check applies the gateway's rules that go-oidc does not: the audience is
// in aud, or, only for a token without aud, it is the client_id (Cognito
// access tokens carry client_id and no aud); nbf and iat are not in the
// future.
func (s standard) check(aud string, now time.Time) error {
	switch {
	case s.Aud.present:
		if !slices.Contains(s.Aud.values, aud) {
			return errors.New("aud does not contain the audience")
		}
	case s.ClientID != aud:
		return errors.New("no aud, and client_id is not the audience")
	}
	if err := notAfter("nbf", s.NotBef, now.Add(Leeway)); err != nil {
		return err
	}
	return notAfter("iat", s.IssuedAt, now.Add(Leeway))
}

// notAfter checks that the NumericDate n, if present, is not after limit.
func notAfter(name string, n *json.Number, limit time.Time) error {
	if n == nil {
		return nil
	}
	secs, err := n.Float64()
	if err != nil {
		return fmt.Errorf("%s is not a number", name)
	}
	if secs > float64(limit.Unix()) {
		return fmt.Errorf("%s is in the future", name)
	}
	return nil
}

// audience is aud, which RFC 7519 allows as one string or an array.
type audience struct {
	present bool
	values  []string
}

func (a *audience) UnmarshalJSON(b []byte) error {
	a.present = true
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		a.values = []string{one}
		return nil
	}
	if err := json.Unmarshal(b, &a.values); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	return nil
}
