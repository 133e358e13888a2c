// The recipes of docs/idp.md, proven: for each identity provider, tokens of
// that provider's exact shape (claims, JSON types, nesting, key ID,
// algorithm, issuer URL) come from a local issuer and go through both paths
// a deployed or local stack has. (1) The local server in jwt mode, which
// verifies them against the issuer's JWKS as API Gateway's JWT authorizer
// does (a token the gateway refuses is a 401 here). (2) The Lambda handler,
// given the claims as the gateway passes them: every claim a string, arrays
// as "[a b]" (as users report; AWS does not say), and objects in either of
// two renderings, since AWS does not document its own. Each recipe's settings must sign the provider's user
// id, count the email only where the provider proves it, and never let a
// claim the user can write pose as proof.

package main_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/intercom-identity/userhash/internal/eventstest"
	"github.com/intercom-identity/userhash/internal/oidctest"
	"github.com/intercom-identity/userhash/internal/testenv"
	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/config"
	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/oidc"
	"github.com/intercom-identity/userhash/shared/secrets"
)

const (
	idpSecret = "idp-recipes-ios-secret"
	victim    = "victim@example.com"
)

// recipe is one provider's section of docs/idp.md: where its issuer URL has
// a path, its audience, the stack's settings it prescribes, and tokens.
type recipe struct {
	name     string
	path     string            // the issuer URL's path: "/PROJECT", "/auth/v1", "/" for a trailing slash
	audience string            // JwtAudience / JWT_AUDIENCE
	env      map[string]string // USER_ID_CLAIM, EMAIL_CLAIM, EMAIL_VERIFIED_CLAIM as the recipe says
	tokens   func(t *testing.T, iss *oidctest.Issuer) []idpToken
}

// idpToken is one token and what the stack must make of it.
type idpToken struct {
	name   string
	token  string
	status int    // 200, 401 (the gateway refuses it) or 403 (no proven identity)
	userID string // on 200
	email  string // on 200: the email only where the provider proves it
}

func TestIdentityProviderRecipes(t *testing.T) {
	for _, r := range idpRecipes() {
		t.Run(r.name, func(t *testing.T) {
			iss := oidctest.NewAt(t, r.path)
			env := map[string]string{"JWT_ISSUER": iss.URL, "JWT_AUDIENCE": r.audience, "IOS_SECRET": idpSecret}
			for k, v := range r.env {
				env[k] = v
			}
			tokens := r.tokens(t, iss)
			lambda := lambdaHandler(t, env)
			var local *Server
			if !testing.Short() {
				local = start(t, env)
			}
			gateway, err := oidc.NewVerifier(iss.URL, r.audience)
			if err != nil {
				t.Fatal(err)
			}
			for _, tok := range tokens {
				t.Run(tok.name, func(t *testing.T) {
					t.Run("local server", func(t *testing.T) {
						testenv.NotShort(t, "runs the built userhash binary")
						status, _, body := local.Post(t, `{"platform":"ios"}`, "Authorization", "Bearer "+tok.token)
						checkIdentity(t, status, body, tok)
					})
					t.Run("Lambda behind the gateway", func(t *testing.T) {
						// The gateway's verdict, as the local server reaches it:
						// a token it refuses never reaches the function.
						_, err := gateway.Verify(context.Background(), tok.token)
						if tok.status == http.StatusUnauthorized {
							if !errors.Is(err, oidc.ErrInvalidToken) {
								t.Fatalf("the gateway model accepted the token (err %v); the recipe says the gateway refuses it", err)
							}
							return
						}
						if err != nil {
							t.Fatalf("the gateway model refused the token: %v", err)
						}
						for _, style := range []objectStyle{goMapStyle, jsonStyle} {
							ev := eventstest.Load(t, "ios.json")
							ev.RequestContext.Authorizer.JWT.Claims = gatewayClaims(t, tok.token, style)
							resp, err := lambda.Handle(context.Background(), ev)
							if err != nil {
								t.Fatal(err)
							}
							checkIdentity(t, resp.StatusCode, []byte(resp.Body), tok)
						}
					})
				})
			}
			if local != nil {
				for _, leaked := range []string{victim, "alice@example.com", "x7k2abcd@privaterelay.appleid.com"} {
					if strings.Contains(local.Log(), leaked) {
						t.Errorf("the local server's log contains %q", leaked)
					}
				}
			}
		})
	}
}

// idpRecipes are the recipes of docs/idp.md, with tokens shaped as each
// provider's documentation shows them.
func idpRecipes() []recipe {
	return []recipe{
		{
			name: "Cognito", path: "/eu-west-1_AbCdEf123", audience: "3n4b5urk1ft4fl3mg5e62d9ado",
			tokens: func(t *testing.T, iss *oidctest.Issuer) []idpToken {
				id := func(verified bool) string {
					c := iss.Claims("3n4b5urk1ft4fl3mg5e62d9ado", "8f2c1a7e-5b3d-4c9e-a1f0-123456789abc")
					c["token_use"], c["cognito:username"] = "id", "alice"
					c["cognito:groups"] = []string{"admins", "staff"}
					c["email"], c["email_verified"] = "alice@example.com", verified
					c["auth_time"] = c["iat"]
					return iss.Sign(t, c)
				}
				access := iss.Claims("", "8f2c1a7e-5b3d-4c9e-a1f0-123456789abc")
				delete(access, "aud")
				access["client_id"], access["token_use"], access["scope"] = "3n4b5urk1ft4fl3mg5e62d9ado", "access", "aws.cognito.signin.user.admin"
				return []idpToken{
					{name: "ID token, verified email", token: id(true), status: 200, userID: "8f2c1a7e-5b3d-4c9e-a1f0-123456789abc", email: "alice@example.com"},
					{name: "ID token, email not verified", token: id(false), status: 200, userID: "8f2c1a7e-5b3d-4c9e-a1f0-123456789abc"},
					{name: "access token: client_id, no aud, no email", token: iss.Sign(t, access), status: 200, userID: "8f2c1a7e-5b3d-4c9e-a1f0-123456789abc"},
				}
			},
		},
		{
			name: "Firebase Auth", path: "/intercom-demo-1a2b3", audience: "intercom-demo-1a2b3",
			tokens: func(t *testing.T, iss *oidctest.Issuer) []idpToken {
				const uid = "kXq8Zb3hT2Md9sWc1LpR0uYvE4n2"
				token := func(aud string, edit func(map[string]any)) string {
					c := iss.Claims(aud, uid)
					c["user_id"], c["auth_time"] = uid, c["iat"]
					c["name"], c["picture"] = "Alice Example", "https://lh3.googleusercontent.com/a/photo"
					c["email"], c["email_verified"] = "alice@example.com", true
					c["firebase"] = map[string]any{
						"identities":       map[string]any{"google.com": []string{"109876543210987654321"}, "email": []string{"alice@example.com"}},
						"sign_in_provider": "google.com",
					}
					if edit != nil {
						edit(c)
					}
					return iss.Sign(t, c)
				}
				return []idpToken{
					{name: "Google sign-in: email_verified is JSON true", token: token("intercom-demo-1a2b3", nil), status: 200, userID: uid, email: "alice@example.com"},
					{name: "email and password, address not yet verified", token: token("intercom-demo-1a2b3", func(c map[string]any) {
						c["email"], c["email_verified"] = victim, false
						c["firebase"] = map[string]any{"identities": map[string]any{"email": []string{victim}}, "sign_in_provider": "password"}
					}), status: 200, userID: uid},
					{name: "anonymous user: the uid only", token: token("intercom-demo-1a2b3", func(c map[string]any) {
						delete(c, "email")
						delete(c, "email_verified")
						delete(c, "name")
						delete(c, "picture")
						c["provider_id"] = "anonymous"
						c["firebase"] = map[string]any{"identities": map[string]any{}, "sign_in_provider": "anonymous"}
					}), status: 200, userID: uid},
					{name: "custom claims set with the Admin SDK sit at the top level", token: token("intercom-demo-1a2b3", func(c map[string]any) {
						c["plan"] = "enterprise"
					}), status: 200, userID: uid, email: "alice@example.com"},
					{name: "another Firebase project's token", token: token("someone-elses-project", nil), status: 401},
				}
			},
		},
		{
			name: "Sign in with Apple", path: "", audience: "com.example.intercomdemo",
			tokens: func(t *testing.T, iss *oidctest.Issuer) []idpToken {
				const sub = "001234.5e201aec537347aeb79d23cbc345170a.1321"
				token := func(aud string, edit func(map[string]any)) string {
					c := iss.Claims(aud, sub)
					delete(c, "nbf") // Apple's identity tokens carry none
					c["auth_time"], c["nonce_supported"], c["real_user_status"] = c["iat"], true, 2
					c["nonce"] = "5a1f0c4b6e2d8f3a9b7c1e0d2f4a6b8c5a1f0c4b6e2d8f3a9b7c1e0d2f4a6b8c"
					c["c_hash"] = "Wk3o1p8TzQeJm0fS0p3mNg"
					c["email"], c["email_verified"], c["is_private_email"] = "x7k2abcd@privaterelay.appleid.com", "true", "true"
					if edit != nil {
						edit(c)
					}
					return iss.Sign(t, c)
				}
				return []idpToken{
					{name: `private relay address, email_verified the string "true"`, token: token("com.example.intercomdemo", nil), status: 200, userID: sub, email: "x7k2abcd@privaterelay.appleid.com"},
					{name: "real address, email_verified and is_private_email booleans", token: token("com.example.intercomdemo", func(c map[string]any) {
						c["email"], c["email_verified"], c["is_private_email"] = "alice@example.com", true, false
					}), status: 200, userID: sub, email: "alice@example.com"},
					{name: "no email shared (a managed Apple Account without one)", token: token("com.example.intercomdemo", func(c map[string]any) {
						delete(c, "email")
						delete(c, "email_verified")
						delete(c, "is_private_email")
					}), status: 200, userID: sub},
					{name: "the web's Services ID as aud, not in JwtAudience", token: token("com.example.intercomdemo.web", nil), status: 401},
				}
			},
		},
		{
			name: "Auth0", path: "/", audience: "https://api.example.com/intercom",
			env: map[string]string{
				"EMAIL_CLAIM":          "https://example.com/email",
				"EMAIL_VERIFIED_CLAIM": "https://example.com/email_verified",
			},
			tokens: func(t *testing.T, iss *oidctest.Issuer) []idpToken {
				const sub = "auth0|64b7f0c2e4a1d2b3c4d5e6f7"
				access := func(edit func(map[string]any)) string {
					c := iss.Claims("", sub)
					delete(c, "nbf")
					// With the openid scope, an access token for an API is
					// for /userinfo too: aud is an array.
					c["aud"] = []string{"https://api.example.com/intercom", iss.URL + "userinfo"}
					c["azp"], c["scope"] = "yq3LkZ0bT9vJxW2nR8sE4uA6cD1fG5hK", "openid profile email"
					// The post-login Action's claims, from event.user.
					c["https://example.com/email"], c["https://example.com/email_verified"] = "alice@example.com", true
					if edit != nil {
						edit(c)
					}
					return iss.Sign(t, c)
				}
				idToken := iss.Claims("yq3LkZ0bT9vJxW2nR8sE4uA6cD1fG5hK", sub)
				idToken["email"], idToken["email_verified"], idToken["nickname"] = "alice@example.com", true, "alice"
				noSlash := iss.Claims("https://api.example.com/intercom", sub)
				noSlash["iss"] = strings.TrimSuffix(iss.URL, "/")
				return []idpToken{
					{name: "access token with the Action's namespaced email claims", token: access(nil), status: 200, userID: sub, email: "alice@example.com"},
					{name: "the Action's email_verified false", token: access(func(c map[string]any) {
						c["https://example.com/email"], c["https://example.com/email_verified"] = victim, false
					}), status: 200, userID: sub},
					{name: "user_metadata the user wrote claims someone else's verified email", token: access(func(c map[string]any) {
						delete(c, "https://example.com/email")
						delete(c, "https://example.com/email_verified")
						c["https://example.com/user_metadata"] = map[string]any{"email": victim, "email_verified": true, "intercom_id": "u-victim"}
						c["email"], c["email_verified"] = victim, "true" // as if copied to the top level too
					}), status: 200, userID: sub},
					{name: "the ID token instead of the access token", token: iss.Sign(t, idToken), status: 401},
					{name: "iss without Auth0's trailing slash", token: iss.Sign(t, noSlash), status: 401},
				}
			},
		},
		{
			name: "Supabase", path: "/auth/v1", audience: "authenticated",
			tokens: func(t *testing.T, iss *oidctest.Issuer) []idpToken {
				const sub = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
				claims := func(edit func(map[string]any)) map[string]any {
					c := iss.Claims("authenticated", sub)
					delete(c, "nbf")
					c["role"], c["aal"], c["is_anonymous"] = "authenticated", "aal1", false
					c["session_id"] = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
					c["amr"] = []map[string]any{{"method": "password", "timestamp": c["iat"]}}
					c["email"], c["phone"] = "alice@example.com", ""
					c["app_metadata"] = map[string]any{"provider": "email", "providers": []string{"email"}}
					c["user_metadata"] = map[string]any{"email": "alice@example.com", "email_verified": true, "phone_verified": false, "sub": sub}
					if edit != nil {
						edit(c)
					}
					return c
				}
				ecc := oidctest.NewKey(t, "ES256") // Supabase's recommended key for new projects
				iss.Publish(ecc)
				legacy := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims(nil)))
				legacyToken, err := legacy.SignedString([]byte("super-secret-jwt-token-with-at-least-32-characters-long"))
				if err != nil {
					t.Fatal(err)
				}
				return []idpToken{
					{name: "RSA key: the user id only, no top-level email_verified", token: iss.Sign(t, claims(nil)), status: 200, userID: sub},
					{name: "user_metadata.email_verified true for someone else's address", token: iss.Sign(t, claims(func(c map[string]any) {
						c["email"] = victim
						c["user_metadata"] = map[string]any{"email": victim, "email_verified": true}
					})), status: 200, userID: sub},
					{name: "anonymous sign-in", token: iss.Sign(t, claims(func(c map[string]any) {
						c["is_anonymous"], c["email"] = true, ""
						c["amr"] = []map[string]any{{"method": "anonymous", "timestamp": c["iat"]}}
						c["app_metadata"], c["user_metadata"] = map[string]any{}, map[string]any{}
					})), status: 200, userID: sub},
					{name: "ECC (P-256) key, ES256: the gateway takes RSA only", token: ecc.Sign(t, claims(nil)), status: 401},
					{name: "legacy JWT secret, HS256", token: legacyToken, status: 401},
				}
			},
		},
		{
			name: "Clerk", path: "", audience: "intercom-identity",
			tokens: func(t *testing.T, iss *oidctest.Issuer) []idpToken {
				const sub = "user_2abcDEFghiJKLmnoPQRstuVWxyz"
				session := func(aud string, edit func(map[string]any)) string {
					c := iss.Claims(aud, sub)
					if aud == "" {
						delete(c, "aud")
					}
					c["azp"], c["sid"], c["v"] = "https://app.example.com", "sess_2abcDEFghiJKLmno", 2
					c["fva"] = []int{7, -1}
					c["jti"] = "a1b2c3d4e5f6a7b8c9d0"
					if edit != nil {
						edit(c)
					}
					return iss.Sign(t, c)
				}
				return []idpToken{
					{name: "session token: no aud, so the gateway refuses it", token: session("", nil), status: 401},
					{name: "the JWT template's token: aud, email and email_verified", token: session("intercom-identity", func(c map[string]any) {
						c["email"], c["email_verified"] = "alice@example.com", true
					}), status: 200, userID: sub, email: "alice@example.com"},
					{name: "the template's token without email_verified", token: session("intercom-identity", func(c map[string]any) {
						c["email"] = "alice@example.com"
					}), status: 200, userID: sub},
					{name: "unsafe_metadata the user wrote poses as proof", token: session("intercom-identity", func(c map[string]any) {
						c["email"] = victim
						c["unsafe_metadata"] = map[string]any{"email_verified": true, "email": victim}
					}), status: 200, userID: sub},
					{name: "another template's aud", token: session("convex", nil), status: 401},
				}
			},
		},
	}
}

// lambdaHandler is the function as main builds it in Lambda, from env with
// config.Load: the recipe's claim settings, a literal secret (this runs
// outside Lambda, where config.Load allows one).
func lambdaHandler(t *testing.T, env map[string]string) *httpapi.Handler {
	t.Helper()
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("the recipe's settings do not load: %v", err)
	}
	claims, err := auth.NewClaimMapping(cfg.Claims.UserID, cfg.Claims.Email, cfg.Claims.EmailVerified, cfg.Claims.IssuerVerifiesEmails, cfg.Claims.Attributes)
	if err != nil {
		t.Fatalf("the recipe's claim settings: %v", err)
	}
	src := secrets.NewPlatforms(nil, cfg.SecretIDs, cfg.SecretLiterals)
	return httpapi.New(src, src.Served(), httpapi.WithClaims(claims), httpapi.WithUserJWTTTL(cfg.UserJWTTTL))
}

// checkIdentity holds an answer to what the recipe promises for tok.
func checkIdentity(t *testing.T, status int, body []byte, tok idpToken) {
	t.Helper()
	if status != tok.status {
		t.Fatalf("got %d %s, want %d", status, body, tok.status)
	}
	if strings.Contains(string(body), victim) {
		t.Errorf("the answer names %s, an address the provider did not prove: %s", victim, body)
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		var p problem
		want := map[int]string{401: "unauthenticated", 403: "unidentified_user"}[status]
		if err := json.Unmarshal(body, &p); err != nil || p.Code != want {
			t.Errorf("got %s, want the problem %s", body, want)
		}
		return
	}
	var got success
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	hashOver := tok.userID
	if hashOver == "" {
		hashOver = tok.email
	}
	if got.UserID != tok.userID || got.Email != tok.email || got.UserHash != independentHash(idpSecret, hashOver) {
		t.Errorf("got user_id %q email %q, want %q and %q, hashed over %q", got.UserID, got.Email, tok.userID, tok.email, hashOver)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(got.UserJWT+"..", ".")[1])
	if err != nil || !strings.Contains(string(payload), fmt.Sprintf(`"user_id":%q`, tok.userID)) {
		t.Errorf("user_jwt payload %s, want user_id %q", payload, tok.userID)
	}
	if tok.email == "" && strings.Contains(string(payload), `"email"`) {
		t.Errorf("user_jwt payload %s carries an email the provider did not prove", payload)
	}
}

// objectStyle is how the gateway might write an object-valued claim. AWS's
// documentation says only that the claims are passed to the integration
// ("$context.authorizer.claims"), every value a string in payload 2.0; it
// does not say how a nested object is written. Both plausible renderings
// are tried, so no recipe rests on the undocumented one.
type objectStyle int

const (
	goMapStyle objectStyle = iota // map[k:v ...], as Go's fmt prints a map
	jsonStyle                     // {"k":v}, compact JSON
)

// gatewayClaims decodes the (already verified) token's payload and writes
// each claim as API Gateway's HTTP API JWT authorizer passes it in
// requestContext.authorizer.jwt.claims: a string as it is, a number as its
// JSON text, a boolean as "true" or "false", an array as its elements
// inside brackets, separated by spaces (as users report cognito:groups
// arriving: "[admins staff]"), an object in style. It is written here
// apart from auth.ClaimStrings, which the local server uses, so that the
// two are not one code checked against itself.
func gatewayClaims(t *testing.T, token string, style objectStyle) map[string]string {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range m {
		if v != nil {
			out[k] = gatewayString(v, style)
		}
	}
	return out
}

func gatewayString(v any, style objectStyle) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return fmt.Sprint(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = gatewayString(e, style)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[string]any:
		if style == jsonStyle {
			b, _ := json.Marshal(v)
			return string(b)
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ":" + gatewayString(v[k], style)
		}
		return "map[" + strings.Join(parts, " ") + "]"
	default:
		return fmt.Sprint(v)
	}
}
