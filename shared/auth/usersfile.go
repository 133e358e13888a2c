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

// User is one entry of a users file.
type User struct {
	Username       string `json:"username"`
	PasswordBcrypt string `json:"password_bcrypt"`
	UserID         string `json:"user_id"`
	Email          string `json:"email"`
}

// UsersFile checks passwords against bcrypt hashes read from a JSON file.
// An unknown user costs the same bcrypt work as a known one with a wrong
// password, so response times do not tell which usernames exist.
type UsersFile struct {
	users map[string]User
	// dummy is compared against when the user is unknown. It is a hash of
	// the same cost as the real ones, of a password nobody knows.
	dummy []byte
}

// LoadUsersFile reads a JSON array of users. Every entry needs a username
// and a valid bcrypt hash; usernames must be unique.
func LoadUsersFile(r io.Reader) (*UsersFile, error) {
	var list []User
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("users file: %w", err)
	}
	f := &UsersFile{users: make(map[string]User, len(list))}
	// The dummy hash costs what the dearest real one does, so that an
	// unknown user takes as long as a known one with a wrong password.
	cost := bcrypt.MinCost
	if len(list) == 0 {
		cost = bcrypt.DefaultCost
	}
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
		cost = max(cost, c)
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
// ErrUnauthenticated for a wrong password and an unknown user alike.
func (f *UsersFile) SignIn(_ context.Context, username, password string) (Identity, error) {
	u, known := f.users[username]
	hash := f.dummy
	if known {
		hash = []byte(u.PasswordBcrypt)
	}
	// Both paths have now done the same bcrypt work. Any failure, a
	// mismatch, an over-long password or an unknown user, is the same answer.
	if err := bcrypt.CompareHashAndPassword(hash, []byte(password)); err != nil || !known {
		return Identity{}, ErrUnauthenticated
	}
	return Identity{UserID: u.UserID, Email: u.Email}, nil
}
