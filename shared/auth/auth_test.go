package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/intercom-identity/userhash/shared/auth"
)

func TestClaimMapping(t *testing.T) {
	tests := []struct {
		name    string
		mapping auth.ClaimMapping
		claims  map[string]string
		want    auth.Identity
	}{
		{name: "default", mapping: auth.DefaultClaimMapping(), claims: map[string]string{"sub": "u", "email": "e@x"}, want: auth.Identity{UserID: "u", Email: "e@x"}},
		{name: "custom attribute", mapping: auth.ClaimMapping{UserID: "custom:intercom_id", Email: "email"}, claims: map[string]string{"sub": "u", "custom:intercom_id": "ic"}, want: auth.Identity{UserID: "ic"}},
		{name: "none", mapping: auth.DefaultClaimMapping(), claims: map[string]string{"iss": "x"}, want: auth.Identity{}},
		{name: "nil claims", mapping: auth.DefaultClaimMapping(), want: auth.Identity{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.mapping.Identity(tt.claims); got != tt.want {
				t.Errorf("Identity() = %+v, want %+v", got, tt.want)
			}
			if got := tt.want.Anonymous(); got != (tt.want == auth.Identity{}) {
				t.Errorf("Anonymous() = %v", got)
			}
		})
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
			if !errors.Is(err, tt.err) || got != tt.want {
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
