// Tests of the stack's own Cognito user pool and app client (README, "Which
// claims are proof"):
// for every combination of the parameters that shape them, an email
// changes only once verified, the app client's write attributes are
// listed and hold neither the identity claim nor a signed attribute's
// claim, self sign-up and threat protection follow their parameters, and
// the function's environment is one the code loads with the same claims.

package deploy_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/config"
)

// claimsOnlyTheStackSets are the claims of the stack's pool that no app
// client can write: the only ones the template lets be the user_id there.
var claimsOnlyTheStackSets = []string{"sub", "cognito:username"}

func TestTemplateUserPool(t *testing.T) {
	tpl := loadTemplate(t)
	deployments := 0
	for _, mode := range []string{"jwt", "password"} {
		for _, ownPool := range []bool{true, false} {
			for _, selfSignUp := range []string{"true", "false"} {
				for _, threat := range []string{"off", "audit", "enforced"} {
					for _, attrs := range []string{"", "name=name,plan=custom:plan", "contact=email,tier=custom:tier"} {
						for _, userID := range []string{"sub", "cognito:username", "custom:intercom_id", "email", "name", "phone_number"} {
							for _, email := range [][2]string{{"email", "email_verified"}, {"email", ""}, {"mail", "mail_verified"}} {
								params := map[string]string{
									"AuthMode": mode, "SelfSignUp": selfSignUp, "ThreatProtection": threat,
									"UserJwtAttributes": attrs, "UserIdClaim": userID, "EmailClaim": email[0], "EmailVerifiedClaim": email[1],
								}
								if !ownPool && mode == "jwt" {
									params["JwtIssuer"], params["JwtAudience"] = "https://auth.example.com/", "app-1"
								}
								if !ownPool && mode == "password" {
									params["CognitoClientId"] = "5abcdefghij1234567890klmno"
								}
								d, err := deploy(t, tpl, params)
								proven := slices.Contains(claimsOnlyTheStackSets, userID) && email == [2]string{"email", "email_verified"}
								// The rules that must refuse these parameters;
								// any one of them may answer first.
								var refusals []string
								if ownPool && !proven {
									refusals = append(refusals, "OwnUserPoolSignsOnlyProvenClaims")
								}
								if slices.Contains(config.UnstableUserIDClaims, userID) {
									refusals = append(refusals, "UserIdClaimIsStable")
								}
								if userID == email[0] {
									refusals = append(refusals, "ClaimsAreDistinct")
								}
								if refusals != nil {
									if err == nil || !slices.ContainsFunc(refusals, func(r string) bool { return strings.Contains(err.Error(), "rule "+r+":") }) {
										t.Errorf("%v: error = %v, want a refusal by %v", params, err, refusals)
									}
									continue
								}
								if err != nil {
									t.Errorf("%v: the parameters are refused: %v", params, err)
									continue
								}
								deployments++
								checkUserPool(t, d, params, ownPool)
								checkClaimEnvironment(t, d, params)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d deployments evaluated", deployments)
}

// checkUserPool checks the pool and its app client, where the deployment
// creates them.
func checkUserPool(t *testing.T, d *deployment, params map[string]string, ownPool bool) {
	t.Helper()
	_, pool := d.resources["UserPool"]
	_, client := d.resources["UserPoolClient"]
	if pool != ownPool || client != ownPool {
		t.Errorf("%v: pool created %v, client %v; want %v", params, pool, client, ownPool)
		return
	}
	if !ownPool {
		return
	}
	p := d.resource("UserPool")
	if got := strs(at(p, "UserAttributeUpdateSettings", "AttributesRequireVerificationBeforeUpdate")); !slices.Equal(got, []string{"email"}) {
		t.Errorf("%v: AttributesRequireVerificationBeforeUpdate = %v, want [email]: an email change must wait for its verification", params, got)
	}
	if got := strs(p["AutoVerifiedAttributes"]); !slices.Contains(got, "email") {
		t.Errorf("%v: AutoVerifiedAttributes = %v, want email (verification before update needs it)", params, got)
	}
	if got, want := fmt.Sprint(at(p, "AdminCreateUserConfig", "AllowAdminCreateUserOnly")), fmt.Sprint(params["SelfSignUp"] == "false"); got != want {
		t.Errorf("%v: AllowAdminCreateUserOnly = %s, want %s", params, got, want)
	}
	wantMode, wantTier := strings.ToUpper(params["ThreatProtection"]), "PLUS"
	if wantMode == "OFF" {
		wantTier = "ESSENTIALS"
	}
	if got := fmt.Sprint(at(p, "UserPoolAddOns", "AdvancedSecurityMode")); got != wantMode {
		t.Errorf("%v: AdvancedSecurityMode = %s, want %s", params, got, wantMode)
	}
	if got := fmt.Sprint(p["UserPoolTier"]); got != wantTier {
		t.Errorf("%v: UserPoolTier = %s, want %s (threat protection needs Plus)", params, got, wantTier)
	}

	c := d.resource("UserPoolClient")
	write, read := strs(c["WriteAttributes"]), strs(c["ReadAttributes"])
	if len(write) == 0 || len(read) == 0 {
		t.Fatalf("%v: WriteAttributes %v, ReadAttributes %v: want both listed, not Cognito's defaults", params, write, read)
	}
	env := at(d.resource("UserHashFunction"), "Environment", "Variables")
	signed, err := auth.ParseAttributes(fmt.Sprint(at(env, "USER_JWT_ATTRIBUTES")))
	if err != nil {
		t.Fatalf("%v: USER_JWT_ATTRIBUTES: %v", params, err)
	}
	for _, w := range write {
		switch {
		case strings.HasPrefix(w, "custom:"):
			t.Errorf("%v: the app client writes %s; no custom attribute may be user-writable", params, w)
		case w == fmt.Sprint(at(env, "USER_ID_CLAIM")) || slices.Contains(claimsOnlyTheStackSets, w):
			t.Errorf("%v: the app client writes %s, a claim the function may sign as the user_id", params, w)
		case w == "email_verified" || w == "phone_number_verified":
			t.Errorf("%v: the app client writes %s", params, w)
		case !slices.Contains(read, w):
			t.Errorf("%v: the app client writes %s but cannot read it", params, w)
		}
		for _, a := range signed {
			// The email alone may stay writable: it changes only once
			// verified, and the function signs it only when verified.
			if a.Claim == w && w != "email" {
				t.Errorf("%v: the app client writes %s, which USER_JWT_ATTRIBUTES signs as %s", params, w, a.Name)
			}
		}
	}
	for _, r := range []string{"email", "email_verified"} {
		if !slices.Contains(read, r) {
			t.Errorf("%v: ReadAttributes %v lack %s: the ID token would never prove an email", params, read, r)
		}
	}
}

// checkClaimEnvironment checks the function gets the claim parameters, and
// that config.Load, given that environment inside Lambda, reads the same
// mapping: set-but-empty EMAIL_VERIFIED_CLAIM trusts the issuer.
func checkClaimEnvironment(t *testing.T, d *deployment, params map[string]string) {
	t.Helper()
	env := at(d.resource("UserHashFunction"), "Environment", "Variables").(map[string]any)
	for name, param := range map[string]string{"EMAIL_VERIFIED_CLAIM": "EmailVerifiedClaim", "USER_JWT_ATTRIBUTES": "UserJwtAttributes"} {
		v, ok := env[name]
		if !ok || fmt.Sprint(v) != params[param] {
			t.Errorf("%v: %s = %v (set %v), want %q set", params, name, v, ok, params[param])
		}
	}
	vars := map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}
	for k, v := range env {
		if s := fmt.Sprint(v); s != "" || k == "EMAIL_VERIFIED_CLAIM" {
			vars[k] = s
		}
	}
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		t.Errorf("%v: the function would not start with the template's environment: %v", params, err)
		return
	}
	m, err := auth.NewClaimMapping(cfg.Claims.UserID, cfg.Claims.Email, cfg.Claims.EmailVerified, cfg.Claims.IssuerVerifiesEmails, cfg.Claims.Attributes)
	if err != nil {
		t.Errorf("%v: the function would not start with the template's claim settings: %v", params, err)
		return
	}
	if m.UserID != params["UserIdClaim"] || m.Email != params["EmailClaim"] ||
		m.IssuerVerifiesEmails != (params["EmailVerifiedClaim"] == "") || (!m.IssuerVerifiesEmails && m.EmailVerified != params["EmailVerifiedClaim"]) ||
		len(m.Attributes) != strings.Count(params["UserJwtAttributes"], "=") {
		t.Errorf("%v: the function reads the claim mapping %+v", params, m)
	}
}

func TestTemplateRefusesUnprovenClaims(t *testing.T) {
	tpl := loadTemplate(t)
	other := map[string]string{"JwtIssuer": "https://auth.example.com/", "JwtAudience": "app-1"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		params  map[string]string
		wantErr string // "" for accepted
	}{
		{"own pool, a custom user_id its users could write", with(nil, "UserIdClaim", "custom:intercom_id"), "OwnUserPoolSignsOnlyProvenClaims"},
		{"own pool in password mode, a custom attribute as user_id", with(nil, "AuthMode", "password", "UserIdClaim", "custom:nickname"), "OwnUserPoolSignsOnlyProvenClaims"},
		{"an existing app client, a profile attribute as user_id", with(nil, "AuthMode", "password", "CognitoClientId", "5abcdefghij1234567890klmno", "UserIdClaim", "preferred_username"), "UserIdClaimIsStable"},
		{"another issuer, an unverified email as user_id", with(other, "UserIdClaim", "email", "EmailClaim", "mail"), "UserIdClaimIsStable"},
		{"another issuer, a username as user_id", with(other, "UserIdClaim", "username"), "UserIdClaimIsStable"},
		{"another issuer, a display name as user_id", with(other, "UserIdClaim", "name"), "UserIdClaimIsStable"},
		{"another issuer, a phone number as user_id", with(other, "UserIdClaim", "phone_number"), "UserIdClaimIsStable"},
		{"one claim as user_id and email", with(other, "UserIdClaim", "mail", "EmailClaim", "mail"), "ClaimsAreDistinct"},
		{"own pool, another email claim", with(nil, "EmailClaim", "name"), "OwnUserPoolSignsOnlyProvenClaims"},
		{"own pool, emails trusted unverified", with(nil, "EmailVerifiedClaim", ""), "OwnUserPoolSignsOnlyProvenClaims"},
		{"another issuer: its custom claim is the operator's call", with(other, "UserIdClaim", "custom:intercom_id"), ""},
		{"another issuer trusted with its emails", with(other, "EmailVerifiedClaim", ""), ""},
		{"attributes without a JWT", with(other, "UserJwtAttributes", "name=name", "UserJwtTtl", "0"), "AttributesNeedAJwt"},
		{"an attribute without a claim", with(nil, "UserJwtAttributes", "name"), "UserJwtAttributes"},
		{"an attribute with a space", with(nil, "UserJwtAttributes", "name=name, plan=custom:plan"), "UserJwtAttributes"},
		{"a trailing comma", with(nil, "UserJwtAttributes", "name=name,"), "UserJwtAttributes"},
		{"self sign-up yes", with(nil, "SelfSignUp", "yes"), "SelfSignUp"},
		{"threat protection on", with(nil, "ThreatProtection", "on"), "ThreatProtection"},
		{"threat protection in capitals", with(nil, "ThreatProtection", "ENFORCED"), "ThreatProtection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := deploy(t, tpl, tt.params)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("deploy(%v) = %v, want it accepted", tt.params, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("deploy(%v) error = %v, want one about %s", tt.params, err, tt.wantErr)
			}
		})
	}
}

// TestTemplateRuleMatchesTheWriteLists holds the rule's allow-list of
// user_id claims apart from everything the app client can write, in each
// of its write lists: the rule cannot read the client, so this test is
// what keeps the two from drifting.
func TestTemplateRuleMatchesTheWriteLists(t *testing.T) {
	tpl := loadTemplate(t)
	rule := at(tpl, "Rules", "OwnUserPoolSignsOnlyProvenClaims", "Assertions")
	var allowed []string
	for _, a := range rule.([]any) {
		if c, ok := at(a, "Assert", "Fn::Contains").([]any); ok {
			allowed = strs(c[0])
		}
	}
	if !slices.Equal(allowed, claimsOnlyTheStackSets) {
		t.Fatalf("the rule allows UserIdClaim %v, want %v", allowed, claimsOnlyTheStackSets)
	}
	lists, ok := at(tpl, "Resources", "UserPoolClient", "Properties", "WriteAttributes", "Fn::If").([]any)
	if !ok || len(lists) != 3 {
		t.Fatalf("WriteAttributes is %v, want an Fn::If of two lists", at(tpl, "Resources", "UserPoolClient", "Properties", "WriteAttributes"))
	}
	for _, list := range lists[1:] {
		for _, w := range strs(list) {
			if slices.Contains(allowed, w) {
				t.Errorf("the app client may write %s, which the rule allows as UserIdClaim", w)
			}
		}
	}
}

// TestTemplateRefusesTheUserIDClaimsTheFunctionRefuses holds the
// template's list of refused UserIdClaim values to the function's own,
// so that a deploy never succeeds with a claim the function then refuses
// at every cold start.
func TestTemplateRefusesTheUserIDClaimsTheFunctionRefuses(t *testing.T) {
	tpl := loadTemplate(t)
	rule := at(tpl, "Rules", "UserIdClaimIsStable", "Assertions")
	var refused []string
	for _, a := range rule.([]any) {
		if not, ok := at(a, "Assert", "Fn::Not").([]any); ok && len(not) == 1 {
			if c, ok := at(not[0], "Fn::Contains").([]any); ok {
				refused = strs(c[0])
			}
		}
	}
	if !sameSet(refused, config.UnstableUserIDClaims) {
		t.Errorf("the template refuses UserIdClaim %v, the function %v", refused, config.UnstableUserIDClaims)
	}
	other := map[string]string{"JwtIssuer": "https://auth.example.com/", "JwtAudience": "app-1", "EmailClaim": "mail", "EmailVerifiedClaim": "mail_verified"}
	for _, claim := range config.UnstableUserIDClaims {
		params := maps.Clone(other)
		params["UserIdClaim"] = claim
		if _, err := deploy(t, tpl, params); err == nil || !strings.Contains(err.Error(), "rule UserIdClaimIsStable:") {
			t.Errorf("UserIdClaim %s: error = %v, want the UserIdClaimIsStable rule's refusal", claim, err)
		}
	}
}
