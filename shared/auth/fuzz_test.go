// A fuzz target for the claims mapping: whatever a verified token's
// payload holds (odd types, nulls, duplicate or escaped names, invalid
// UTF-8), the identity is the configured claims' values as API Gateway
// renders them, byte for byte, and nothing else; the email only when
// email_verified is JSON true or the string "true" (or the issuer is
// trusted with its emails); the signed attributes follow their claims and
// the email's verification; and the JWT made from the identity carries
// exactly that, never an unverified email. Seed corpus:
// testdata/fuzz/FuzzClaimMapping.

package auth_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/signing"
)

func FuzzClaimMapping(f *testing.F) {
	for _, seed := range []struct{ payload, userIDClaim, emailClaim string }{
		{`{"sub": "u-1", "email": "a@example.com", "email_verified": true}`, "sub", "email"},
		{`{"sub": " u-1 ", "email": "A@Example.COM", "email_verified": "true"}`, "sub", "email"},
		{`{"sub": 12345678901234567890, "email": null}`, "sub", "email"},
		{`{"sub": true, "email": ["a@example.com", "b@example.com"], "email_verified": true}`, "sub", "email"},
		{`{"sub": {"id": "u-1"}, "email": 1.5e3, "email_verified": "true"}`, "sub", "email"},
		{`{"sub": "a", "sub": "b"}`, "sub", "email"},
		{`{"custom:intercom_id": "ic-1", "sub": "u-1"}`, "custom:intercom_id", "email"},
		{`{"s\u0075b": "escaped-name", "email": "\u0000", "email_verified": true}`, "sub", "email"},
		{"{\"sub\": \"\xff\xfe\"}", "sub", "email"},
		{`{"sub": ""}`, "sub", "email"},
		{`[]`, "sub", "email"},
		{`null`, "sub", "email"},
		{`{"email": "only@example.com", "email_verified": true}`, "sub", "email"},
		{`{"sub": "u-1"}`, "", ""},
		{`{"sub": "u-1", "email_verified": true}`, "sub", "sub"},
		// email_verified in every shape: only true and "true" are a yes.
		{`{"sub": "s-1", "email": "victim@example.com", "email_verified": "false"}`, "custom:intercom_id", "email"},
		{`{"sub": "s-1", "email": "victim@example.com", "email_verified": false}`, "sub", "email"},
		{`{"email": "victim@example.com"}`, "sub", "email"},
		{`{"email": "victim@example.com", "email_verified": "True"}`, "sub", "email"},
		{`{"email": "victim@example.com", "email_verified": "TRUE"}`, "sub", "email"},
		{`{"email": "victim@example.com", "email_verified": 1}`, "sub", "email"},
		{`{"email": "victim@example.com", "email_verified": "1"}`, "sub", "email"},
		{`{"email": "victim@example.com", "email_verified": " true"}`, "sub", "email"},
		{`{"email": "victim@example.com", "email_verified": ["true"]}`, "sub", "email"},
		{`{"email": "victim@example.com", "email_verified": {"value": true}}`, "sub", "email"},
		{`{"email": "victim@example.com", "email_verified": null}`, "sub", "email"},
		{`{"email": "victim@example.com", "email_verified": "tru\u0065"}`, "sub", "email"},
		{`{"email": "victim@example.com", "email_verified": true, "email_verified": false}`, "sub", "email"},
		{`{"email": "victim@example.com", "email_verified": false, "email_verified": "true"}`, "sub", "email"},
		{`{"email": "true", "email_verified": "true"}`, "sub", "email_verified"},
	} {
		f.Add([]byte(seed.payload), seed.userIDClaim, seed.emailClaim)
	}
	secret := []byte("fuzz-platform-secret")
	now := time.Unix(1795619045, 0)
	f.Fuzz(func(t *testing.T, payload []byte, userIDClaim, emailClaim string) {
		claims, err := auth.ClaimStrings(payload)
		if err != nil {
			return // not a JSON object: the verifier refuses the token
		}
		raw := referenceClaims(t, payload)
		verified := false
		switch v := raw[auth.DefaultEmailVerifiedClaim].(type) {
		case bool:
			verified = v
		case string:
			verified = v == "true"
		}
		attrs := []auth.Attribute{{Name: "signed_id", Claim: userIDClaim}, {Name: "signed_email", Claim: emailClaim}, {Name: "signed_flag", Claim: auth.DefaultEmailVerifiedClaim}}
		strict := auth.ClaimMapping{UserID: userIDClaim, Email: emailClaim, Attributes: attrs}
		trusting := auth.ClaimMapping{UserID: userIDClaim, Email: emailClaim, IssuerVerifiesEmails: true, Attributes: attrs}

		for _, c := range []struct {
			name    string
			m       auth.ClaimMapping
			counted bool // whether the email counts
		}{
			{"email_verified checked", strict, verified},
			{"issuer trusted with its emails", trusting, true},
		} {
			id := c.m.Identity(claims)
			checkClaim(t, c.name+": user_id", id.UserID, raw, userIDClaim)
			if c.counted {
				checkClaim(t, c.name+": email", id.Email, raw, emailClaim)
			} else if id.Email != "" {
				t.Fatalf("%s: email = %q although email_verified is %#v", c.name, id.Email, raw[auth.DefaultEmailVerifiedClaim])
			}
			if id.Anonymous() != (id.UserID == "" && id.Email == "") {
				t.Fatalf("%s: Anonymous() = %v for %+v", c.name, id.Anonymous(), id)
			}
			// What gets hashed is the user_id when there is one, else the
			// (verified) email.
			want := id.UserID
			if want == "" {
				want = id.Email
			}
			if got := signing.Identifier(id.UserID, id.Email); got != want {
				t.Fatalf("%s: Identifier(%q, %q) = %q, want %q", c.name, id.UserID, id.Email, got, want)
			}
			wantAttrs := map[string]string{}
			for _, a := range attrs {
				v := claims[a.Claim]
				if v != "" && (a.Claim != emailClaim || c.counted) {
					wantAttrs[a.Name] = v
				}
			}
			if !maps.Equal(id.Attributes, wantAttrs) {
				t.Fatalf("%s: attributes = %v, want %v", c.name, id.Attributes, wantAttrs)
			}
			checkJWT(t, c.name, secret, now, id)
		}
	})
}

// checkJWT signs the identity's JWT and reads its payload back: user_id,
// the email only when it counted, the attributes, and nothing else but the
// times.
func checkJWT(t *testing.T, name string, secret []byte, now time.Time, id auth.Identity) {
	t.Helper()
	tok, _, err := signing.UserJWT(secret, id.UserID, id.Email, now, time.Hour, signing.WithAttributes(id.Attributes))
	if id.UserID == "" {
		if err == nil {
			t.Fatalf("%s: a JWT without a user_id", name)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: UserJWT: %v", name, err)
	}
	parts := strings.Split(tok, ".")
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if len(parts) != 3 || err != nil {
		t.Fatalf("%s: the JWT is not three base64url parts: %q", name, tok)
	}
	var payload map[string]any
	if err := json.Unmarshal(body, &payload); err != nil {
		t.Fatalf("%s: the JWT payload is not JSON: %v", name, err)
	}
	want := map[string]any{"user_id": id.UserID, "iat": float64(now.Unix()), "exp": float64(now.Add(time.Hour).Unix())}
	if id.Email != "" {
		want["email"] = id.Email
	}
	for k, v := range id.Attributes {
		want[k] = v
	}
	if len(payload) != len(want) {
		t.Fatalf("%s: JWT payload %v, want exactly %v", name, payload, want)
	}
	for k, v := range want {
		if payload[k] != v {
			t.Fatalf("%s: JWT claim %q = %#v, want %#v (payload %v)", name, k, payload[k], v, payload)
		}
	}
}

// referenceClaims decodes payload with encoding/json, keeping numbers as
// their text.
func referenceClaims(t *testing.T, payload []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("ClaimStrings accepted a payload encoding/json refuses: %v", err)
	}
	return m
}

// checkClaim checks one field of the identity against the claim's JSON
// value: a string exactly, a number as its JSON text, a boolean as
// true/false, null or absent as unknown, arrays and objects as some
// rendering that cannot be mistaken for a plain string.
func checkClaim(t *testing.T, field, got string, raw map[string]any, claim string) {
	t.Helper()
	if !utf8.ValidString(got) {
		t.Fatalf("%s %q is not valid UTF-8: the app could not send Intercom what was hashed", field, got)
	}
	switch v := raw[claim].(type) {
	case nil:
		if got != "" {
			t.Fatalf("%s = %q from claim %q, which is absent or null; want none", field, got, claim)
		}
	case string:
		if got != v {
			t.Fatalf("%s = %q, want the claim %q exactly: %q", field, got, claim, v)
		}
	case json.Number:
		if got != v.String() {
			t.Fatalf("%s = %q, want the number's JSON text %q", field, got, v.String())
		}
	case bool:
		if want := map[bool]string{true: "true", false: "false"}[v]; got != want {
			t.Fatalf("%s = %q, want %q", field, got, want)
		}
	case []any:
		if !strings.HasPrefix(got, "[") || !strings.HasSuffix(got, "]") {
			t.Fatalf("%s = %q from an array claim, want it bracketed as the gateway does", field, got)
		}
	case map[string]any:
		if !json.Valid([]byte(got)) || !strings.HasPrefix(got, "{") {
			t.Fatalf("%s = %q from an object claim, want its JSON text", field, got)
		}
	}
}
