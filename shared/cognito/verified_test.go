// The ID token Cognito returns goes through the same claim mapping as the
// gateway's claims: its email counts only when email_verified is true, and
// the signed attributes come from its claims.

package cognito_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/cognito"
)

func TestSignInOnlyVerifiedEmails(t *testing.T) {
	withAttrs := auth.DefaultClaimMapping()
	withAttrs.Attributes = []auth.Attribute{{Name: "name", Claim: "name"}, {Name: "contact", Claim: "email"}}
	trusting := auth.DefaultClaimMapping()
	trusting.IssuerVerifiesEmails = true
	tests := []struct {
		name    string
		claims  map[string]any // the ID token's, beside iss, aud, token_use, ...
		mapping auth.ClaimMapping
		want    auth.Identity
	}{
		{name: "verified, JSON true", claims: map[string]any{"sub": "s-1", "email": "a@example.com", "email_verified": true}, want: auth.Identity{UserID: "s-1", Email: "a@example.com"}},
		{name: "verified, the string true", claims: map[string]any{"sub": "s-1", "email": "a@example.com", "email_verified": "true"}, want: auth.Identity{UserID: "s-1", Email: "a@example.com"}},
		{name: "unverified, JSON false", claims: map[string]any{"sub": "s-1", "email": "victim@example.com", "email_verified": false}, want: auth.Identity{UserID: "s-1"}},
		{name: "unverified, the string false", claims: map[string]any{"sub": "s-1", "email": "victim@example.com", "email_verified": "false"}, want: auth.Identity{UserID: "s-1"}},
		{name: "no email_verified", claims: map[string]any{"sub": "s-1", "email": "victim@example.com"}, want: auth.Identity{UserID: "s-1"}},
		{name: "no user_id, unverified email: anonymous", mapping: mapping, claims: map[string]any{"sub": "s-1", "email": "victim@example.com", "email_verified": false}, want: auth.Identity{}},
		{name: "no user_id, verified email", mapping: mapping, claims: map[string]any{"sub": "s-1", "email": "b@example.com", "email_verified": true}, want: auth.Identity{Email: "b@example.com"}},
		{name: "an issuer trusted with its emails", mapping: trusting, claims: map[string]any{"sub": "s-1", "email": "a@example.com"}, want: auth.Identity{UserID: "s-1", Email: "a@example.com"}},
		{
			name: "signed attributes, email verified", mapping: withAttrs,
			claims: map[string]any{"sub": "s-1", "email": "a@example.com", "email_verified": true, "name": "Alice"},
			want:   auth.Identity{UserID: "s-1", Email: "a@example.com", Attributes: map[string]string{"name": "Alice", "contact": "a@example.com"}},
		},
		{
			name: "signed attributes, email unverified", mapping: withAttrs,
			claims: map[string]any{"sub": "s-1", "email": "victim@example.com", "email_verified": false, "name": "Alice"},
			want:   auth.Identity{UserID: "s-1", Attributes: map[string]string{"name": "Alice"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool, client := newPool(t, "")
			pool.AddUser("dana", awsfake.CognitoUser{Password: password, Claims: tt.claims})
			m := tt.mapping
			if m.UserID == "" {
				m = auth.DefaultClaimMapping()
			}
			got, err := cognito.New(client, clientID, cognito.WithClaimMapping(m)).SignIn(context.Background(), "dana", password)
			if err != nil {
				t.Fatalf("SignIn: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("identity: got %+v, want %+v", got, tt.want)
			}
		})
	}
}
