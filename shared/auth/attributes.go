// Signed JWT attributes: USER_JWT_ATTRIBUTES names claims of the verified
// token that go into the Intercom JWT as user attributes, which Intercom
// then trusts as the server's word.

package auth

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/intercom-identity/userhash/shared/signing"
)

// Attribute is one signed JWT attribute: Name at the top level of the JWT's
// payload, with the value of the verified claim Claim.
type Attribute struct {
	Name  string // e.g. "plan"
	Claim string // e.g. "custom:plan"
}

// ParseAttributes reads a list of attr=claim pairs separated by commas,
// USER_JWT_ATTRIBUTES, e.g. "name=name,plan=custom:plan". Spaces around
// names are ignored; an empty list is no attributes. It refuses a pair
// without exactly one "=", an empty name or claim, a name given twice, and
// a name that is one of the JWT's own claims (user_id, email, iat, exp,
// nbf, iss, aud, sub, jti), in any case: an attribute could otherwise
// replace the identity Intercom checks or the token's times.
func ParseAttributes(s string) ([]Attribute, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []Attribute
	seen := map[string]bool{}
	for i, pair := range strings.Split(s, ",") {
		name, claim, ok := strings.Cut(pair, "=")
		name, claim = strings.TrimSpace(name), strings.TrimSpace(claim)
		switch {
		case strings.TrimSpace(pair) == "":
			return nil, fmt.Errorf("pair %d is empty; write attr=claim pairs separated by single commas", i+1)
		case !ok || strings.Contains(claim, "="):
			return nil, fmt.Errorf("%q is not attr=claim (for example name=name,plan=custom:plan)", strings.TrimSpace(pair))
		case name == "" || claim == "":
			return nil, fmt.Errorf("%q needs both an attribute name and a claim", strings.TrimSpace(pair))
		case strings.ContainsFunc(name, isSpaceOrControl) || strings.ContainsFunc(claim, isSpaceOrControl):
			return nil, fmt.Errorf("%q has a space or control character inside a name", strings.TrimSpace(pair))
		case signing.Reserved(name):
			return nil, fmt.Errorf("%q is one of the JWT's own claims (user_id, email, iat, exp, nbf, iss, aud, sub, jti) and cannot be an attribute", name)
		case seen[strings.ToLower(name)]:
			return nil, fmt.Errorf("the attribute %q is given twice", name)
		}
		seen[strings.ToLower(name)] = true
		out = append(out, Attribute{Name: name, Claim: claim})
	}
	return out, nil
}

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }
