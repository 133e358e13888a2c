package auth

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestDummyHashCostsWhatRealOnesDo checks that an unknown user is compared
// against a hash of the same bcrypt cost as the file's dearest, so a failed
// sign-in takes as long whether or not the user exists. (The cost decides
// the time: each step doubles it. Checking it is exact where timing a
// shared machine is not.)
func TestDummyHashCostsWhatRealOnesDo(t *testing.T) {
	for _, costs := range [][]int{{4}, {6}, {5, 7}, {10}} {
		var entries []string
		for i, c := range costs {
			h, err := bcrypt.GenerateFromPassword([]byte("pw"), c)
			if err != nil {
				t.Fatal(err)
			}
			entries = append(entries, `{"username":"u`+string(rune('0'+i))+`","password_bcrypt":"`+string(h)+`"}`)
		}
		f, err := LoadUsersFile(strings.NewReader("[" + strings.Join(entries, ",") + "]"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := bcrypt.Cost(f.dummy)
		if want := max(costs[0], costs[len(costs)-1]); err != nil || got != want {
			t.Errorf("costs %v: dummy cost = %d, %v; want %d", costs, got, err, want)
		}
	}
}
