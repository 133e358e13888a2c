package auth

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// usersJSON returns a users file whose entry i has password pw and bcrypt
// cost costs[i], and username "u<i>".
func usersJSON(t *testing.T, pw string, costs ...int) string {
	t.Helper()
	var list []User
	for i, c := range costs {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), c)
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, User{Username: "u" + string(rune('0'+i)), PasswordBcrypt: string(h), UserID: "id-" + string(rune('0'+i))})
	}
	b, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDummyHashCostsWhatRealOnesDo checks that an unknown user is compared
// against a hash of the file's one bcrypt cost, so a failed sign-in takes
// as long whether or not the user exists. (The cost decides the time: each
// step doubles it. Checking it is exact where timing a shared machine is
// not.)
func TestDummyHashCostsWhatRealOnesDo(t *testing.T) {
	for _, costs := range [][]int{{4}, {6, 6}, {7, 7, 7}, {10}, {}} {
		f, err := LoadUsersFile(strings.NewReader(usersJSON(t, "pw", costs...)))
		if err != nil {
			t.Fatalf("costs %v: %v", costs, err)
		}
		want := bcrypt.DefaultCost // an empty file
		if len(costs) > 0 {
			want = costs[0]
		}
		if got, err := bcrypt.Cost(f.dummy); err != nil || got != want {
			t.Errorf("costs %v: dummy cost = %d, %v; want %d", costs, got, err, want)
		}
	}
}

// TestMixedCostsRefused: a cheaper hash answers a wrong password faster
// than the dummy answers an unknown user, which tells which users exist.
func TestMixedCostsRefused(t *testing.T) {
	for _, costs := range [][]int{{4, 5}, {5, 4}, {4, 4, 6}} {
		_, err := LoadUsersFile(strings.NewReader(usersJSON(t, "pw", costs...)))
		if err == nil || !strings.Contains(err.Error(), "one cost") {
			t.Errorf("costs %v: err = %v, want a refusal that asks for one cost", costs, err)
		}
		if err != nil && strings.Contains(err.Error(), `"u`) {
			t.Errorf("costs %v: the refusal %q names a user", costs, err)
		}
	}
}

// TestEverySignInCostsOneComparison records the bcrypt comparisons each
// kind of sign-in makes: exactly one, against a hash of the file's cost,
// whoever signs in with whatever password. That is what makes the answer's
// time independent of whether the user exists.
func TestEverySignInCostsOneComparison(t *testing.T) {
	right := strings.Repeat("p", MaxPasswordBytes) // the longest password bcrypt reads whole
	f, err := LoadUsersFile(strings.NewReader(usersJSON(t, right, 5, 5)))
	if err != nil {
		t.Fatal(err)
	}
	type call struct {
		cost, pwLen int
	}
	var calls []call
	f.compare = func(hash, pw []byte) error {
		c, err := bcrypt.Cost(hash)
		if err != nil {
			t.Fatalf("compared against a hash that is not bcrypt: %v", err)
		}
		calls = append(calls, call{c, len(pw)})
		return bcrypt.CompareHashAndPassword(hash, pw)
	}
	tests := []struct {
		name, username, password string
		ok                       bool
	}{
		{"right password of 72 bytes", "u0", right, true},
		{"wrong password", "u0", "nope", false},
		{"unknown user", "nobody", right, false},
		{"the right 72 bytes and one more", "u0", right + "x", false},
		{"a 100-byte password", "u1", strings.Repeat("p", 100), false},
		{"a 100-byte password of an unknown user", "nobody", strings.Repeat("p", 100), false},
		{"a 1000-byte password", "u0", strings.Repeat("q", 1000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls = nil
			id, err := f.SignIn(context.Background(), tt.username, tt.password)
			if tt.ok && (err != nil || id.UserID != "id-0") {
				t.Errorf("SignIn = %+v, %v; want id-0", id, err)
			}
			if !tt.ok && (err != ErrUnauthenticated || !reflect.DeepEqual(id, Identity{})) {
				t.Errorf("SignIn = %+v, %v; want ErrUnauthenticated", id, err)
			}
			if len(calls) != 1 || calls[0].cost != 5 || calls[0].pwLen > MaxPasswordBytes {
				t.Errorf("comparisons = %+v, want exactly one at cost 5 of at most %d bytes", calls, MaxPasswordBytes)
			}
		})
	}
}
