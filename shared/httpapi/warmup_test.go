// WarmUp answers its made-up request through the whole success path, with
// whatever claim mapping the function runs with, and touches nothing real:
// no sign-in, and its log line and outcome go only where its options say.

package httpapi_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/httpapi"
)

// refuseSignIn fails the test if a sign-in is tried.
type refuseSignIn struct{ t *testing.T }

func (r refuseSignIn) SignIn(context.Context, string, string) (auth.Identity, error) {
	r.t.Error("WarmUp tried to sign in")
	return auth.Identity{}, auth.ErrUnauthenticated
}

func TestWarmUp(t *testing.T) {
	tests := []struct {
		name   string
		claims auth.ClaimMapping
	}{
		{"the default claims", auth.DefaultClaimMapping()},
		{"a custom identity claim, an issuer that only issues verified emails, signed attributes", auth.ClaimMapping{
			UserID: "custom:uid", Email: "mail", IssuerVerifiesEmails: true,
			Attributes: []auth.Attribute{{Name: "name", Claim: "name"}, {Name: "plan", Claim: "custom:plan"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			var outcomes []httpapi.Outcome
			status := httpapi.WarmUp(httpapi.WithClaims(tt.claims), httpapi.WithPasswords(refuseSignIn{t}),
				httpapi.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))),
				httpapi.WithObserver(func(o httpapi.Outcome) { outcomes = append(outcomes, o) }))
			if status != 200 {
				t.Errorf("status = %d, want 200: the whole success path, hash and JWT", status)
			}
			if len(outcomes) != 1 || outcomes[0].Code != httpapi.CodeOK {
				t.Errorf("outcomes = %+v, want one ok", outcomes)
			}
			if n := strings.Count(logs.String(), "\n"); n != 1 || !strings.Contains(logs.String(), `"code":"ok"`) || strings.Contains(logs.String(), "warm-up-user") {
				t.Errorf("log = %s, want one request line with no identifier", logs.String())
			}
		})
	}
}
