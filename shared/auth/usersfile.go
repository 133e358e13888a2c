// The local users file: password mode on the local server, where there is
// no Cognito user pool to ask.

package auth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"

	"golang.org/x/crypto/bcrypt"
)

// MaxPasswordBytes is the longest password the users file checks. bcrypt
// reads only the first 72 bytes of a password, so a longer one would be
// accepted on its first 72 bytes alone; it is refused instead.
const MaxPasswordBytes = 72

// User is one entry of a users file.
type User struct {
	Username       string `json:"username"`
	PasswordBcrypt string `json:"password_bcrypt"`
	UserID         string `json:"user_id"`
	Email          string `json:"email"`
}

// UsersFile checks passwords against bcrypt hashes read from a JSON file.
// Every sign-in costs one bcrypt comparison at the file's one cost, whether
// the user exists, the password is wrong, or it is too long, so response
// times do not tell which usernames exist.
type UsersFile struct {
	users map[string]User
	// dummy is compared against when the user is unknown. It is a hash of
	// the file's cost, of a password nobody knows.
	dummy []byte
	// compare is bcrypt.CompareHashAndPassword; tests count its calls.
	compare func(hash, password []byte) error
}

// LoadUsersFile reads a JSON array of users. Every entry needs a username
// and a valid bcrypt hash; usernames must be unique, and every hash must
// have the same cost.
//
// Mixed costs are refused because the cost sets the time of a failed
// sign-in: with a cost-4 hash for one user and cost 12 for another (the
// dummy hash would take the dearest), the local server answered a wrong
// password for the cheap user in 1.6 ms and an unknown user in 230 ms,
// which tells anyone timing the answers that the cheap user exists.
func LoadUsersFile(r io.Reader) (*UsersFile, error) {
	var list []User
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	f := &UsersFile{users: make(map[string]User, len(list)), compare: bcrypt.CompareHashAndPassword}
	// With no users, every sign-in is of an unknown user; the dummy hash
	// still costs what a real one would.
	cost, first := bcrypt.DefaultCost, -1
	for i, u := range list {
		if u.Username == "" {
			return nil, fmt.Errorf("users file: entry %d has no username", i)
		}
		if _, dup := f.users[u.Username]; dup {
			return nil, fmt.Errorf("users file: entry %d repeats a username", i)
		}
		c, err := bcrypt.Cost([]byte(u.PasswordBcrypt))
		if err != nil {
			return nil, fmt.Errorf("users file: entry %d: password_bcrypt is not a bcrypt hash", i)
		}
		if first < 0 {
			cost, first = c, i
		} else if c != cost {
			// Entry numbers only: a username is an identifier, and this
			// line goes to the start log.
			return nil, fmt.Errorf("users file: entry %d has bcrypt cost %d but entry %d has %d; hash every password with one cost, since a cheaper hash answers faster and so tells which users exist", i, c, first, cost)
		}
		f.users[u.Username] = u
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(rand.Text()), cost)
	if err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	f.dummy = dummy
	return f, nil
}

// SignIn returns the identity of username if password is right, and
// ErrUnauthenticated for a wrong password, an unknown user and a password
// over MaxPasswordBytes alike.
//
// Each of those costs the same one bcrypt comparison. Answering an
// over-long password without it would tell an attacker nothing about the
// users (the time would depend on the password's length alone, which the
// attacker chose), but it would make "every failure costs the same" a rule
// with an exception, and saves nothing an attacker could not save too by
// sending 72 bytes.
func (f *UsersFile) SignIn(_ context.Context, username, password string) (Identity, error) {
	tooLong := len(password) > MaxPasswordBytes
	u, known := f.users[username]
	hash := f.dummy
	if known && !tooLong {
		hash = []byte(u.PasswordBcrypt)
	}
	// The dummy never matches, so an over-long password cut to the length
	// bcrypt reads fails too, at the same cost.
	err := f.compare(hash, []byte(password[:min(len(password), MaxPasswordBytes)]))
	if err != nil || !known || tooLong {
		return Identity{}, ErrUnauthenticated
	}
	return Identity{UserID: u.UserID, Email: u.Email}, nil
}
