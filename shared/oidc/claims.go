// Claims as strings: API Gateway hands the function a token's claims as a
// map of strings, so everything downstream (auth.ClaimMapping) reads them
// that way, whether a gateway, this package or a Cognito ID token supplied
// them.

package oidc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

type rawClaims = json.RawMessage

// ClaimStrings decodes a JWT payload (a JSON object) into the map of
// strings that API Gateway's JWT authorizer passes in
// requestContext.authorizer.jwt.claims:
//
//   - a string is kept as it is, byte for byte;
//   - a number is its JSON text ("exp": 1764083045 gives "1764083045"), so
//     large integer IDs are not rounded through float64;
//   - true and false are "true" and "false";
//   - an array is its elements, each flattened the same way, separated by
//     spaces inside brackets (["a","b"] gives "[a b]"), as the gateway
//     writes cognito:groups;
//   - an object is its compact JSON text (the gateway's rendering of
//     objects is not documented; JSON at least loses nothing);
//   - null is left out, as if the claim were absent.
func ClaimStrings(payload []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("claims are not a JSON object: %v", err)
	}
	if m == nil {
		return nil, errors.New("claims are not a JSON object")
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v == nil {
			continue
		}
		out[k] = claimString(v)
	}
	return out, nil
}

func claimString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "null"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = claimString(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	default: // map[string]any
		b, _ := json.Marshal(v) // values came from JSON, so this cannot fail
		return string(b)
	}
}

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
