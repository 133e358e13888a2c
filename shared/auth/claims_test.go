package auth_test

import (
	"testing"

	"github.com/intercom-identity/userhash/shared/auth"
)

// TestClaimStrings holds the flattening to what API Gateway's JWT
// authorizer passes the function.
func TestClaimStrings(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    map[string]string
	}{
		{"string kept byte for byte", `{"email":" A@Example.com "}`, map[string]string{"email": " A@Example.com "}},
		{"integer as its JSON text, not rounded", `{"id":12345678901234567890}`, map[string]string{"id": "12345678901234567890"}},
		{"fraction as its JSON text", `{"n":1.50}`, map[string]string{"n": "1.50"}},
		{"booleans", `{"a":true,"b":false}`, map[string]string{"a": "true", "b": "false"}},
		{"array as the gateway writes it", `{"cognito:groups":["admin","staff"]}`, map[string]string{"cognito:groups": "[admin staff]"}},
		{"mixed array", `{"x":["a",1,true]}`, map[string]string{"x": "[a 1 true]"}},
		{"empty array", `{"x":[]}`, map[string]string{"x": "[]"}},
		{"object as compact JSON", `{"addr":{ "city" : "Dublin" }}`, map[string]string{"addr": `{"city":"Dublin"}`}},
		{"null left out", `{"sub":"u","gone":null}`, map[string]string{"sub": "u"}},
		{"non-ASCII kept", `{"name":"Zoë \u00e9"}`, map[string]string{"name": "Zoë é"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.ClaimStrings([]byte(tt.payload))
			if err != nil {
				t.Fatalf("ClaimStrings: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %d claims %v, want %d %v", len(got), got, len(tt.want), tt.want)
			}
			for k, w := range tt.want {
				if got[k] != w {
					t.Errorf("claim %q: got %q, want %q", k, got[k], w)
				}
			}
		})
	}
	for _, bad := range []string{`[1,2]`, `"sub"`, `null`, `{`, ``} {
		if got, err := auth.ClaimStrings([]byte(bad)); err == nil {
			t.Errorf("ClaimStrings(%q): got %v, want an error", bad, got)
		}
	}
}
