// Package oidctest runs a test OpenID Connect issuer on httptest: a
// discovery document, a JWKS, and keys that mint RS256 and ES256 tokens
// (ES256 ones for verifiers to refuse, as API Gateway does),
// plus the forged tokens a verifier must refuse. It is imported by tests
// only.
//
//	iss := oidctest.New(t) // publishes one RS256 key and signs with it
//	tok := iss.Sign(t, iss.Claims("my-audience", "user-1"))
//	v, _ := oidc.NewVerifier(iss.URL, "my-audience")
//
//	next := oidctest.NewKey(t, "RS256") // key rotation
//	iss.Publish(next)
//	iss.SignWith(next)
//
//	fb := oidctest.NewAt(t, "/my-project") // iss http://127.0.0.1:PORT/my-project, as Firebase's
//	a0 := oidctest.NewAt(t, "/")           // iss with a trailing slash, as Auth0's
package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// Key is a signing key with its key ID.
type Key struct {
	ID      string
	Alg     string // "RS256" or "ES256"
	private crypto.Signer
}

// Public returns the public half of the key.
func (k *Key) Public() crypto.PublicKey { return k.private.Public() }

// NewKey generates a key for alg ("RS256" or "ES256") with a random key ID.
// It is not published until Issuer.Publish.
func NewKey(t testing.TB, alg string) *Key {
	t.Helper()
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		t.Fatalf("oidctest: unsupported algorithm %q; use RS256 or ES256", alg)
	}
	if err != nil {
		t.Fatalf("oidctest: generate %s key: %v", alg, err)
	}
	return &Key{ID: alg + "-" + rand.Text()[:8], Alg: alg, private: priv}
}

// Renamed returns k's key material under the key ID id: a new key to a
// verifier that finds keys by their ID, without the cost of generating an
// RSA key (tests that rotate through hundreds of keys).
func (k *Key) Renamed(id string) *Key {
	return &Key{ID: id, Alg: k.Alg, private: k.private}
}

// Issuer is a running test issuer. Its URL is also the iss of its tokens.
type Issuer struct {
	URL string
	// jwksURL is where the key set is served.
	jwksURL string
	// Now is the clock for Claims; set it to the verifier's fake clock.
	Now func() time.Time

	mu          sync.Mutex
	published   []*Key
	signer      *Key
	down        bool
	jwksGate    chan struct{} // while set, JWKS requests wait for it to close
	jwksFetches int
	discoveries int
}

// New starts an issuer that publishes one RS256 key and signs with it. It
// stops when the test ends.
func New(t testing.TB) *Issuer {
	t.Helper()
	return NewAt(t, "")
}

// NewAt is New with an issuer URL that has path after the host: "/PROJECT"
// (Firebase), "/auth/v1" (Supabase), "/" (Auth0's trailing slash). Its
// discovery document is where OIDC discovery looks for it: the path without
// a trailing slash, then /.well-known/openid-configuration.
func NewAt(t testing.TB, path string) *Issuer {
	t.Helper()
	if path != "" && !strings.HasPrefix(path, "/") {
		t.Fatalf("oidctest: issuer path %q does not start with /", path)
	}
	iss := &Issuer{Now: time.Now}
	base := strings.TrimSuffix(path, "/")
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+base+"/.well-known/openid-configuration", iss.serveDiscovery)
	mux.HandleFunc("GET "+base+"/jwks.json", iss.serveJWKS)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	iss.URL = srv.URL + path
	iss.jwksURL = srv.URL + base + "/jwks.json"
	k := NewKey(t, "RS256")
	iss.Publish(k)
	iss.SignWith(k)
	return iss
}

// Publish adds k to the JWKS.
func (iss *Issuer) Publish(k *Key) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.published = append(iss.published, k)
}

// Unpublish removes the key with ID kid from the JWKS (the end of a
// rotation).
func (iss *Issuer) Unpublish(kid string) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	var keep []*Key
	for _, k := range iss.published {
		if k.ID != kid {
			keep = append(keep, k)
		}
	}
	iss.published = keep
}

// SignWith makes k the key that Sign uses.
func (iss *Issuer) SignWith(k *Key) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.signer = k
}

// SetDown makes the issuer answer 503 to everything (true) or serve again
// (false), to test a verifier that starts before its issuer.
func (iss *Issuer) SetDown(down bool) {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	iss.down = down
}

// HoldJWKS makes JWKS requests wait, once counted, until open is called;
// then they are answered with the keys published at that moment. Tests use
// it to keep a download in flight while they act.
func (iss *Issuer) HoldJWKS() (open func()) {
	gate := make(chan struct{})
	iss.mu.Lock()
	iss.jwksGate = gate
	iss.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			iss.mu.Lock()
			if iss.jwksGate == gate {
				iss.jwksGate = nil
			}
			iss.mu.Unlock()
			close(gate)
		})
	}
}

// JWKSFetches reports how many times the JWKS was asked for while the
// issuer was up.
func (iss *Issuer) JWKSFetches() int {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.jwksFetches
}

// Discoveries reports how many times the discovery document was asked
// for, whether or not the issuer was down.
func (iss *Issuer) Discoveries() int {
	iss.mu.Lock()
	defer iss.mu.Unlock()
	return iss.discoveries
}

// Claims returns the claims of a valid token for audience and subject:
// iss, aud, sub, iat, nbf, and exp an hour after Now. Tests change or
// delete entries to make invalid ones.
func (iss *Issuer) Claims(audience, subject string) map[string]any {
	now := iss.Now()
	return map[string]any{
		"iss": iss.URL,
		"aud": audience,
		"sub": subject,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
}

// Sign returns claims as a JWT signed with the current signing key.
func (iss *Issuer) Sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	iss.mu.Lock()
	k := iss.signer
	iss.mu.Unlock()
	return k.Sign(t, claims)
}

// Sign returns claims as a JWT signed with k, its key ID in the header.
func (k *Key) Sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	method := jwt.SigningMethod(jwt.SigningMethodRS256)
	if k.Alg == "ES256" {
		method = jwt.SigningMethodES256
	}
	tok := jwt.NewWithClaims(method, jwt.MapClaims(claims))
	tok.Header["kid"] = k.ID
	s, err := tok.SignedString(k.private)
	if err != nil {
		t.Fatalf("oidctest: sign: %v", err)
	}
	return s
}

// SignWithoutKeyID returns claims as a JWT signed with the current
// signing key but with no kid in its header: API Gateway refuses it.
func (iss *Issuer) SignWithoutKeyID(t testing.TB, claims map[string]any) string {
	t.Helper()
	iss.mu.Lock()
	k := iss.signer
	iss.mu.Unlock()
	method := jwt.SigningMethod(jwt.SigningMethodRS256)
	if k.Alg == "ES256" {
		method = jwt.SigningMethodES256
	}
	s, err := jwt.NewWithClaims(method, jwt.MapClaims(claims)).SignedString(k.private)
	if err != nil {
		t.Fatalf("oidctest: sign: %v", err)
	}
	return s
}

// SignNone returns claims as an unsigned JWT, alg "none", naming the
// current key: a verifier must refuse it.
func (iss *Issuer) SignNone(t testing.TB, claims map[string]any) string {
	t.Helper()
	iss.mu.Lock()
	kid := iss.signer.ID
	iss.mu.Unlock()
	header := map[string]any{"alg": "none", "typ": "JWT", "kid": kid}
	return segment(t, header) + "." + segment(t, claims) + "."
}

// SignHS256WithPublicKey returns claims as a JWT with alg HS256 whose HMAC
// key is the current key's public key in PEM, the classic attack on
// verifiers that let the token choose the algorithm: a verifier must refuse
// it.
func (iss *Issuer) SignHS256WithPublicKey(t testing.TB, claims map[string]any) string {
	t.Helper()
	iss.mu.Lock()
	k := iss.signer
	iss.mu.Unlock()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatalf("oidctest: marshal public key: %v", err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims))
	tok.Header["kid"] = k.ID
	s, err := tok.SignedString(pemKey)
	if err != nil {
		t.Fatalf("oidctest: sign HS256: %v", err)
	}
	return s
}

func segment(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (iss *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	iss.mu.Lock()
	down := iss.down
	iss.discoveries++
	iss.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, map[string]any{
		"issuer":                                iss.URL,
		"jwks_uri":                              iss.jwksURL,
		"authorization_endpoint":                strings.TrimSuffix(iss.URL, "/") + "/authorize",
		"token_endpoint":                        strings.TrimSuffix(iss.URL, "/") + "/token",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256", "ES256"},
	})
}

func (iss *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	iss.mu.Lock()
	down, gate := iss.down, iss.jwksGate
	if !down {
		iss.jwksFetches++
	}
	iss.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	iss.mu.Lock()
	var set jose.JSONWebKeySet
	for _, k := range iss.published {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: k.ID, Algorithm: k.Alg, Use: "sig"})
	}
	iss.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	writeJSON(w, set)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
