package signing_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/intercom-identity/userhash/shared/signing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestUserHashKnownAnswers checks UserHash against published HMAC-SHA256
// answers: every test case of RFC 4231 (case 5's answer is published
// truncated to 128 bits, so only that much is compared) and the generic
// HMAC-SHA256 example that many HMAC write-ups use (key "secret", message
// "Message").
func TestUserHashKnownAnswers(t *testing.T) {
	tests := []struct {
		name string
		key  []byte
		data string
		want string // a prefix of the hash, for a truncated published answer
	}{
		{
			name: "generic HMAC-SHA256 example: key \"secret\", message \"Message\"",
			key:  []byte("secret"),
			data: "Message",
			want: "aa747c502a898200f9e4fa21bac68136f886a0e27aec70ba06daf2e2a5cb5597",
		},
		{
			name: "RFC 4231 case 1",
			key:  unhex(t, strings.Repeat("0b", 20)),
			data: "Hi There",
			want: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		},
		{
			name: "RFC 4231 case 2, key shorter than the block",
			key:  []byte("Jefe"),
			data: "what do ya want for nothing?",
			want: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		},
		{
			name: "RFC 4231 case 3",
			key:  unhex(t, strings.Repeat("aa", 20)),
			data: string(unhex(t, strings.Repeat("dd", 50))),
			want: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
		},
		{
			name: "RFC 4231 case 4",
			key:  unhex(t, "0102030405060708090a0b0c0d0e0f10111213141516171819"),
			data: string(unhex(t, strings.Repeat("cd", 50))),
			want: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
		},
		{
			name: "RFC 4231 case 5, answer truncated to 128 bits",
			key:  unhex(t, strings.Repeat("0c", 20)),
			data: "Test With Truncation",
			want: "a3b6167473100ee06e0c796c2955552b",
		},
		{
			name: "RFC 4231 case 6, key longer than the block",
			key:  unhex(t, strings.Repeat("aa", 131)),
			data: "Test Using Larger Than Block-Size Key - Hash Key First",
			want: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
		},
		{
			name: "RFC 4231 case 7, key and data longer than the block",
			key:  unhex(t, strings.Repeat("aa", 131)),
			data: "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
			want: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := signing.UserHash(tt.key, tt.data); len(got) != 64 || !strings.HasPrefix(got, tt.want) {
				t.Errorf("UserHash() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestUserHashIsExactBytes(t *testing.T) {
	secret := []byte("s3cr3t")
	base := signing.UserHash(secret, "User@Example.com")
	for _, other := range []string{"user@example.com", " User@Example.com", "User@Example.com ", "User@Example.com\n"} {
		if signing.UserHash(secret, other) == base {
			t.Errorf("UserHash(%q) equals UserHash(%q): the identifier must be hashed exactly", other, "User@Example.com")
		}
	}
	if got := signing.UserHash(secret, "x"); len(got) != 64 || strings.ToLower(got) != got {
		t.Errorf("UserHash() = %q, want 64 lowercase hex digits", got)
	}
}

func TestIdentifier(t *testing.T) {
	tests := []struct {
		name, userID, email, want string
	}{
		{name: "user_id wins over email", userID: "u-1", email: "a@example.com", want: "u-1"},
		{name: "email without user_id", email: "a@example.com", want: "a@example.com"},
		{name: "user_id only", userID: "u-1", want: "u-1"},
		{name: "anonymous", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := signing.Identifier(tt.userID, tt.email); got != tt.want {
				t.Errorf("Identifier(%q, %q) = %q, want %q", tt.userID, tt.email, got, tt.want)
			}
		})
	}
}

func TestUserJWTVerifiesWithTheSecret(t *testing.T) {
	secret := []byte("platform-secret")
	now := time.Date(2026, 11, 25, 15, 4, 5, 999, time.UTC)
	tests := []struct {
		name, userID, email string
	}{
		{name: "with email", userID: "u-123", email: "a@example.com"},
		{name: "without email", userID: "u-123"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, exp, err := signing.UserJWT(secret, tt.userID, tt.email, now, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if want := time.Date(2026, 11, 25, 16, 4, 5, 0, time.UTC); !exp.Equal(want) {
				t.Errorf("expiry = %v, want %v", exp, want)
			}
			var claims map[string]any
			parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return secret, nil },
				jwt.WithValidMethods([]string{"HS256"}),
				jwt.WithTimeFunc(func() time.Time { return now }))
			if err != nil {
				t.Fatalf("verify with the platform secret: %v", err)
			}
			claims = parsed.Claims.(jwt.MapClaims)
			if parsed.Header["alg"] != "HS256" || parsed.Header["typ"] != "JWT" {
				t.Errorf("header = %v, want alg HS256, typ JWT", parsed.Header)
			}
			if claims["user_id"] != tt.userID {
				t.Errorf("user_id = %v, want %q", claims["user_id"], tt.userID)
			}
			if email, ok := claims["email"]; tt.email == "" && ok {
				t.Errorf("email = %v, want absent", email)
			} else if tt.email != "" && email != tt.email {
				t.Errorf("email = %v, want %q", email, tt.email)
			}
			if claims["iat"] != float64(now.Unix()) {
				t.Errorf("iat = %v, want %d", claims["iat"], now.Unix())
			}
			if claims["exp"] != float64(now.Add(time.Hour).Unix()) {
				t.Errorf("exp = %v, want %d", claims["exp"], now.Add(time.Hour).Unix())
			}
			if len(claims) != map[bool]int{true: 4, false: 3}[tt.email != ""] {
				t.Errorf("claims = %v, want only user_id, email, iat, exp", claims)
			}
			if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte("other-platform"), nil }); err == nil {
				t.Error("token verified with another platform's secret")
			}
		})
	}
}

// TestUserJWTKnownAnswer checks UserJWT against a token that another
// implementation made from the same inputs: Node's crypto, with no JWT
// library (testdata/user-jwt.js says how to make it again). Byte for byte:
// the header, the claims and their order, the base64url without padding,
// and the signature.
func TestUserJWTKnownAnswer(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "user-jwt.json"))
	if err != nil {
		t.Fatal(err)
	}
	var known struct {
		Secret string `json:"secret"`
		UserID string `json:"user_id"`
		Email  string `json:"email"`
		Iat    int64  `json:"iat"`
		Exp    int64  `json:"exp"`
		Token  string `json:"token"`
	}
	if err := json.Unmarshal(raw, &known); err != nil || known.Token == "" {
		t.Fatalf("testdata/user-jwt.json: %v", err)
	}
	tok, exp, err := signing.UserJWT([]byte(known.Secret), known.UserID, known.Email, time.Unix(known.Iat, 0), time.Duration(known.Exp-known.Iat)*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if tok != known.Token {
		t.Errorf("UserJWT() = %s\nwant         %s", tok, known.Token)
	}
	if exp.Unix() != known.Exp {
		t.Errorf("expiry = %d, want %d", exp.Unix(), known.Exp)
	}
}

func TestUserJWTRefuses(t *testing.T) {
	now := time.Now()
	if _, _, err := signing.UserJWT([]byte("s"), "", "a@example.com", now, time.Hour); !errors.Is(err, signing.ErrNoUserID) {
		t.Errorf("no user_id: err = %v, want ErrNoUserID", err)
	}
	if _, _, err := signing.UserJWT(nil, "u", "", now, time.Hour); !errors.Is(err, signing.ErrNoSecret) {
		t.Errorf("no secret: err = %v, want ErrNoSecret", err)
	}
}

// TestUserJWTAttributes checks that signed attributes sit at the top level
// of the payload beside the identity, and that none can take the place of
// one of the JWT's own claims.
func TestUserJWTAttributes(t *testing.T) {
	secret := []byte("platform-secret")
	now := time.Date(2026, 11, 25, 15, 4, 5, 0, time.UTC)
	tok, _, err := signing.UserJWT(secret, "u-123", "a@example.com", now, time.Hour,
		signing.WithAttributes(map[string]string{"name": "Zoë", "plan": "enterprise", "company_id": "42"}))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		t.Fatalf("verify with the platform secret: %v", err)
	}
	want := jwt.MapClaims{
		"user_id": "u-123", "email": "a@example.com", "iat": float64(now.Unix()), "exp": float64(now.Add(time.Hour).Unix()),
		"name": "Zoë", "plan": "enterprise", "company_id": "42",
	}
	if got := parsed.Claims.(jwt.MapClaims); !reflect.DeepEqual(got, want) {
		t.Errorf("claims = %v\nwant     %v", got, want)
	}

	for _, attrs := range []map[string]string{nil, {}} {
		tok, _, err := signing.UserJWT(secret, "u-123", "", now, time.Hour, signing.WithAttributes(attrs))
		if err != nil {
			t.Fatal(err)
		}
		parsed, _ := jwt.Parse(tok, func(*jwt.Token) (any, error) { return secret, nil })
		if got := parsed.Claims.(jwt.MapClaims); len(got) != 3 {
			t.Errorf("attributes %v: claims = %v, want only user_id, iat, exp", attrs, got)
		}
	}

	for _, name := range []string{"user_id", "email", "iat", "exp", "nbf", "iss", "aud", "sub", "jti", "USER_ID", "Email", "Exp"} {
		if !signing.Reserved(name) {
			t.Errorf("Reserved(%q) = false, want true", name)
		}
		_, _, err := signing.UserJWT(secret, "u-123", "", now, time.Hour, signing.WithAttributes(map[string]string{name: "victim"}))
		if !errors.Is(err, signing.ErrReservedAttribute) {
			t.Errorf("attribute %q: err = %v, want ErrReservedAttribute", name, err)
		}
	}
	for _, name := range []string{"name", "plan", "user", "emails", "subscription", "custom:plan"} {
		if signing.Reserved(name) {
			t.Errorf("Reserved(%q) = true, want false", name)
		}
	}
}

// BenchmarkUserHash is the baseline the handler's benchmarks compare with.
func BenchmarkUserHash(b *testing.B) {
	secret := []byte("0123456789abcdef0123456789abcdef01234567")
	b.ReportAllocs()
	for b.Loop() {
		signing.UserHash(secret, "u-1234567890")
	}
}

// BenchmarkRawHMAC is HMAC-SHA256 with a precomputed key, the floor for
// any user hash.
func BenchmarkRawHMAC(b *testing.B) {
	mac := hmac.New(sha256.New, []byte("0123456789abcdef0123456789abcdef01234567"))
	msg := []byte("u-1234567890")
	var sum [sha256.Size]byte
	b.ReportAllocs()
	for b.Loop() {
		mac.Reset()
		mac.Write(msg)
		mac.Sum(sum[:0])
	}
}

func BenchmarkUserJWT(b *testing.B) {
	secret := []byte("0123456789abcdef0123456789abcdef01234567")
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := signing.UserJWT(secret, "u-1234567890", "a@example.com", now, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
