// A fuzz target for the claims mapping: whatever a verified token's
// payload holds (odd types, nulls, duplicate or escaped names, invalid
// UTF-8), the identity is the configured claims' values as API Gateway
// renders them, byte for byte, and nothing else. Seed corpus:
// testdata/fuzz/FuzzClaimMapping.

package auth_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/signing"
)

func FuzzClaimMapping(f *testing.F) {
	for _, seed := range []struct{ payload, userIDClaim, emailClaim string }{
		{`{"sub": "u-1", "email": "a@example.com"}`, "sub", "email"},
		{`{"sub": " u-1 ", "email": "A@Example.COM"}`, "sub", "email"},
		{`{"sub": 12345678901234567890, "email": null}`, "sub", "email"},
		{`{"sub": true, "email": ["a@example.com", "b@example.com"]}`, "sub", "email"},
		{`{"sub": {"id": "u-1"}, "email": 1.5e3}`, "sub", "email"},
		{`{"sub": "a", "sub": "b"}`, "sub", "email"},
		{`{"custom:intercom_id": "ic-1", "sub": "u-1"}`, "custom:intercom_id", "email"},
		{`{"s\u0075b": "escaped-name", "email": "\u0000"}`, "sub", "email"},
		{"{\"sub\": \"\xff\xfe\"}", "sub", "email"},
		{`{"sub": ""}`, "sub", "email"},
		{`[]`, "sub", "email"},
		{`null`, "sub", "email"},
		{`{"email": "only@example.com"}`, "sub", "email"},
		{`{"sub": "u-1"}`, "", ""},
		{`{"sub": "u-1"}`, "sub", "sub"},
	} {
		f.Add([]byte(seed.payload), seed.userIDClaim, seed.emailClaim)
	}
	f.Fuzz(func(t *testing.T, payload []byte, userIDClaim, emailClaim string) {
		claims, err := auth.ClaimStrings(payload)
		if err != nil {
			return // not a JSON object: the verifier refuses the token
		}
		m := auth.ClaimMapping{UserID: userIDClaim, Email: emailClaim}
		id := m.Identity(claims)

		raw := referenceClaims(t, payload)
		checkClaim(t, "user_id", id.UserID, raw, userIDClaim)
		checkClaim(t, "email", id.Email, raw, emailClaim)
		if id.Anonymous() != (id.UserID == "" && id.Email == "") {
			t.Fatalf("Anonymous() = %v for %+v", id.Anonymous(), id)
		}
		// What gets hashed is the user_id when there is one, else the email.
		want := id.UserID
		if want == "" {
			want = id.Email
		}
		if got := signing.Identifier(id.UserID, id.Email); got != want {
			t.Fatalf("Identifier(%q, %q) = %q, want %q", id.UserID, id.Email, got, want)
		}
	})
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
