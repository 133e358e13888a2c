package auth_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/intercom-identity/userhash/shared/auth"
)

// TestClaimMapping holds the mapping to the README's "Which claims are
// proof": the identity is the
// configured claims, and the email counts only when it is verified.
func TestClaimMapping(t *testing.T) {
	custom := auth.ClaimMapping{UserID: "custom:intercom_id", Email: "email"} // zero verification fields: the strict default
	trusting := auth.ClaimMapping{UserID: "sub", Email: "email", IssuerVerifiesEmails: true}
	ownFlag := auth.ClaimMapping{UserID: "sub", Email: "mail", EmailVerified: "mail_checked"}
	tests := []struct {
		name    string
		mapping auth.ClaimMapping
		claims  map[string]string
		want    auth.Identity
	}{
		{name: "default, verified", mapping: auth.DefaultClaimMapping(), claims: map[string]string{"sub": "u", "email": "e@x", "email_verified": "true"}, want: auth.Identity{UserID: "u", Email: "e@x"}},
		{name: "default, unverified", mapping: auth.DefaultClaimMapping(), claims: map[string]string{"sub": "u", "email": "e@x", "email_verified": "false"}, want: auth.Identity{UserID: "u"}},
		{name: "default, verification missing", mapping: auth.DefaultClaimMapping(), claims: map[string]string{"sub": "u", "email": "e@x"}, want: auth.Identity{UserID: "u"}},
		{name: "only the string true counts: True", mapping: auth.DefaultClaimMapping(), claims: map[string]string{"sub": "u", "email": "e@x", "email_verified": "True"}, want: auth.Identity{UserID: "u"}},
		{name: "only the string true counts: 1", mapping: auth.DefaultClaimMapping(), claims: map[string]string{"sub": "u", "email": "e@x", "email_verified": "1"}, want: auth.Identity{UserID: "u"}},
		{name: "only the string true counts: padded", mapping: auth.DefaultClaimMapping(), claims: map[string]string{"sub": "u", "email": "e@x", "email_verified": " true"}, want: auth.Identity{UserID: "u"}},
		{name: "only the string true counts: an array", mapping: auth.DefaultClaimMapping(), claims: map[string]string{"sub": "u", "email": "e@x", "email_verified": "[true]"}, want: auth.Identity{UserID: "u"}},
		{name: "zero mapping fields are strict", mapping: custom, claims: map[string]string{"custom:intercom_id": "ic", "email": "e@x"}, want: auth.Identity{UserID: "ic"}},
		{name: "custom user_id, verified email", mapping: custom, claims: map[string]string{"sub": "u", "custom:intercom_id": "ic", "email": "e@x", "email_verified": "true"}, want: auth.Identity{UserID: "ic", Email: "e@x"}},
		// Issue 9's first attack: no user_id claim, someone else's unverified email.
		{name: "no user_id, unverified email: anonymous", mapping: custom, claims: map[string]string{"sub": "s-1", "email": "victim@example.com", "email_verified": "false"}, want: auth.Identity{}},
		{name: "no user_id, verified email", mapping: custom, claims: map[string]string{"sub": "s-1", "email": "me@example.com", "email_verified": "true"}, want: auth.Identity{Email: "me@example.com"}},
		{name: "issuer vouches for its emails", mapping: trusting, claims: map[string]string{"sub": "u", "email": "e@x"}, want: auth.Identity{UserID: "u", Email: "e@x"}},
		{name: "issuer vouches, whatever email_verified says", mapping: trusting, claims: map[string]string{"email": "e@x", "email_verified": "false"}, want: auth.Identity{Email: "e@x"}},
		{name: "own verification claim", mapping: ownFlag, claims: map[string]string{"sub": "u", "mail": "e@x", "mail_checked": "true", "email_verified": "false"}, want: auth.Identity{UserID: "u", Email: "e@x"}},
		{name: "own verification claim, not the default one", mapping: ownFlag, claims: map[string]string{"sub": "u", "mail": "e@x", "email_verified": "true"}, want: auth.Identity{UserID: "u"}},
		{name: "none", mapping: auth.DefaultClaimMapping(), claims: map[string]string{"iss": "x"}, want: auth.Identity{}},
		{name: "nil claims", mapping: auth.DefaultClaimMapping(), want: auth.Identity{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.mapping.Identity(tt.claims); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Identity() = %+v, want %+v", got, tt.want)
			}
			if got, want := tt.want.Anonymous(), tt.want.UserID == "" && tt.want.Email == ""; got != want {
				t.Errorf("Anonymous() = %v, want %v", got, want)
			}
		})
	}
}

// TestClaimMappingAttributes holds the signed JWT attributes to their
// verified claims: present claims only, and an email claim only when the
// email counts.
func TestClaimMappingAttributes(t *testing.T) {
	m := auth.DefaultClaimMapping()
	m.Attributes = []auth.Attribute{{Name: "name", Claim: "name"}, {Name: "plan", Claim: "custom:plan"}, {Name: "contact", Claim: "email"}, {Name: "cognito_id", Claim: "sub"}}
	tests := []struct {
		name   string
		claims map[string]string
		want   auth.Identity
	}{
		{
			name:   "every claim present, email verified",
			claims: map[string]string{"sub": "u", "email": "e@x", "email_verified": "true", "name": "Zoë", "custom:plan": "pro"},
			want:   auth.Identity{UserID: "u", Email: "e@x", Attributes: map[string]string{"name": "Zoë", "plan": "pro", "contact": "e@x", "cognito_id": "u"}},
		},
		{
			name:   "an attribute from an unverified email is left out with the email",
			claims: map[string]string{"sub": "u", "email": "victim@example.com", "email_verified": "false", "name": "Zoë"},
			want:   auth.Identity{UserID: "u", Attributes: map[string]string{"name": "Zoë", "cognito_id": "u"}},
		},
		{
			name:   "absent and empty claims are left out",
			claims: map[string]string{"sub": "u", "custom:plan": ""},
			want:   auth.Identity{UserID: "u", Attributes: map[string]string{"cognito_id": "u"}},
		},
		{
			name:   "no attribute claim at all",
			claims: map[string]string{"email": "e@x", "email_verified": "false"},
			want:   auth.Identity{},
		},
		{
			name:   "values byte for byte",
			claims: map[string]string{"sub": " u ", "name": "  Mixed Case  ", "custom:plan": "[a b]"},
			want:   auth.Identity{UserID: " u ", Attributes: map[string]string{"name": "  Mixed Case  ", "plan": "[a b]", "cognito_id": " u "}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.Identity(tt.claims); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Identity() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseAttributes(t *testing.T) {
	tests := []struct {
		name, in string
		want     []auth.Attribute
	}{
		{name: "empty", in: ""},
		{name: "blank", in: "   "},
		{name: "the README's example", in: "name=name,plan=custom:plan", want: []auth.Attribute{{Name: "name", Claim: "name"}, {Name: "plan", Claim: "custom:plan"}}},
		{name: "spaces around pairs and names", in: " name = name , company_id=custom:company ", want: []auth.Attribute{{Name: "name", Claim: "name"}, {Name: "company_id", Claim: "custom:company"}}},
		{name: "an attribute named like no registered claim", in: "Subscription=custom:sub", want: []auth.Attribute{{Name: "Subscription", Claim: "custom:sub"}}},
		{name: "a claim that is a reserved name is fine", in: "cognito_id=sub,contact=email", want: []auth.Attribute{{Name: "cognito_id", Claim: "sub"}, {Name: "contact", Claim: "email"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := auth.ParseAttributes(tt.in)
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseAttributes(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{
		"name", "name=", "=name", "name=name,", ",name=name", "name=name,,plan=plan", "a=b=c",
		"user_id=custom:id", "email=custom:email", "EMAIL=custom:email", "Sub=sub", "iat=x", "exp=x", "nbf=x", "iss=x", "aud=x", "jti=x",
		"plan=custom:plan,plan=custom:tier", "plan=a,Plan=b", "my name=name", "name=my claim", "name=na	me",
	} {
		if got, err := auth.ParseAttributes(bad); err == nil {
			t.Errorf("ParseAttributes(%q) = %v, want an error", bad, got)
		}
	}
}

func hash(t testing.TB, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func TestUsersFileSignIn(t *testing.T) {
	file := `[
		{"username": "alice@example.com", "password_bcrypt": "` + hash(t, "right") + `", "user_id": "u-1", "email": "alice@example.com"},
		{"username": "carol", "password_bcrypt": "` + hash(t, "right") + `", "email": "carol@example.com"}
	]`
	users, err := auth.LoadUsersFile(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, username, password string
		want                     auth.Identity
		err                      error
	}{
		{name: "right password", username: "alice@example.com", password: "right", want: auth.Identity{UserID: "u-1", Email: "alice@example.com"}},
		{name: "email-only user", username: "carol", password: "right", want: auth.Identity{Email: "carol@example.com"}},
		{name: "wrong password", username: "alice@example.com", password: "wrong", err: auth.ErrUnauthenticated},
		{name: "unknown user", username: "mallory", password: "right", err: auth.ErrUnauthenticated},
		{name: "username is case-sensitive", username: "Alice@example.com", password: "right", err: auth.ErrUnauthenticated},
		{name: "password over bcrypt's 72 bytes", username: "alice@example.com", password: strings.Repeat("p", 100), err: auth.ErrUnauthenticated},
		{name: "empty password", username: "alice@example.com", password: "", err: auth.ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := users.SignIn(context.Background(), tt.username, tt.password)
			if !errors.Is(err, tt.err) || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("SignIn() = %+v, %v; want %+v, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

// BenchmarkSignIn compares a wrong password for a known user with an
// unknown user: the two must cost the same bcrypt work.
func BenchmarkSignIn(b *testing.B) {
	users, err := auth.LoadUsersFile(strings.NewReader(`[{"username":"a","password_bcrypt":"` + hash(b, "right") + `","user_id":"u"}]`))
	if err != nil {
		b.Fatal(err)
	}
	for _, user := range []string{"a", "nobody"} {
		b.Run("user="+user, func(b *testing.B) {
			for b.Loop() {
				_, _ = users.SignIn(context.Background(), user, "wrong")
			}
		})
	}
}

func TestLoadUsersFileRejects(t *testing.T) {
	good := hash(t, "x")
	tests := []struct{ name, file string }{
		{name: "not JSON", file: `users`},
		{name: "not an array", file: `{"username":"a"}`},
		{name: "no username", file: `[{"password_bcrypt":"` + good + `"}]`},
		{name: "not a bcrypt hash", file: `[{"username":"a","password_bcrypt":"plaintext"}]`},
		{name: "duplicate username", file: `[{"username":"a","password_bcrypt":"` + good + `"},{"username":"a","password_bcrypt":"` + good + `"}]`},
		{name: "unknown field", file: `[{"username":"a","password":"plaintext","password_bcrypt":"` + good + `"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.LoadUsersFile(strings.NewReader(tt.file))
			if err == nil {
				t.Fatal("LoadUsersFile() error = nil, want an error")
			}
			if strings.Contains(err.Error(), "plaintext") {
				t.Errorf("error %q echoes a password", err)
			}
		})
	}
}
