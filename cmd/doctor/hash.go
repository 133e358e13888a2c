// Diagnosing a user_hash: recompute it with the function's own signing code
// for every configured secret, both identifiers, and the case and white
// space changes apps make, and name the fewest mistakes that explain it.

package main

import (
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"math/bits"
	"strings"

	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/signing"
)

// identity is what the app passed to Intercom, as the operator gave it.
type identity struct {
	userID, email         string
	userIDSent, emailSent bool
}

// checked returns the identifier Intercom checks the hash against (the
// user_id whenever one is sent, else the email) and its name.
func (id identity) checked() (value, name string) {
	if id.userIDSent {
		return id.userID, "user_id"
	}
	return id.email, "email"
}

// other returns the user's other known identifier, which Intercom does not
// check, and its name; "" when there is none.
func (id identity) other() (value, name string) {
	if id.userIDSent {
		return id.email, "email"
	}
	return id.userID, "user_id"
}

// variant is the identifier as an app may have changed it on the way.
type variant struct {
	how   string // "" for the identifier as given
	value string
}

// variants returns s and each distinct change of case or white space that
// apps make to identifiers (trimming an email, lower-casing it).
func variants(s string) []variant {
	out := []variant{{"", s}}
	seen := map[string]bool{s: true}
	trimmed := strings.TrimSpace(s)
	for _, v := range []variant{
		{"with white space trimmed", trimmed},
		{"lower-cased", strings.ToLower(s)},
		{"upper-cased", strings.ToUpper(s)},
		{"trimmed and lower-cased", strings.ToLower(trimmed)},
		{"trimmed and upper-cased", strings.ToUpper(trimmed)},
	} {
		if v.value != "" && !seen[v.value] {
			seen[v.value] = true
			out = append(out, v)
		}
	}
	return out
}

// The mistakes a hash can show, one bit each, in the order they are named:
// the order of the README's list, most common first.
const (
	mistakePlatform   = 1 << iota // made with another platform's secret
	mistakeIdentifier             // over the other identifier
	mistakeChanged                // over the identifier before a change
)

// finding is what a diagnosis concluded: a cause and a detail that says
// why, without any secret or the full hash.
type finding struct {
	cause  Cause
	detail string
}

// diagnoseHash explains hash, which the app sent with id on platform p.
// keys are the configured secrets; a key without a value is one that could
// not be read.
func diagnoseHash(p platform.Platform, id identity, hash string, keys []*key) finding {
	want, err := hex.DecodeString(hash)
	if err != nil {
		return finding{CauseUnknownSecret, "not a hex user_hash"} // parseOptions refuses it first
	}
	// Keys in the order they are tried: the platform's own first.
	ordered := make([]*key, 0, len(keys))
	for _, k := range keys {
		if k.platform == p {
			ordered = append([]*key{k}, ordered...)
		} else {
			ordered = append(ordered, k)
		}
	}
	checked, checkedName := id.checked()
	other, otherName := id.other()

	type hit struct {
		key      *key
		idName   string
		how      string
		mistakes int
	}
	var best *hit
	consider := func(h hit) {
		if best == nil || bits.OnesCount(uint(h.mistakes)) < bits.OnesCount(uint(best.mistakes)) ||
			bits.OnesCount(uint(h.mistakes)) == bits.OnesCount(uint(best.mistakes)) && h.mistakes < best.mistakes {
			best = &h
		}
	}
	for _, k := range ordered {
		if k.value == nil {
			continue
		}
		for _, ident := range []struct {
			value, name string
			mistake     int
		}{{checked, checkedName, 0}, {other, otherName, mistakeIdentifier}} {
			if ident.value == "" {
				continue
			}
			for _, v := range variants(ident.value) {
				got, _ := hex.DecodeString(signing.UserHash(k.value, v.value))
				if !hmac.Equal(got, want) {
					continue
				}
				m := ident.mistake
				if k.platform != p {
					m |= mistakePlatform
				}
				if v.how != "" {
					m |= mistakeChanged
				}
				consider(hit{key: k, idName: ident.name, how: v.how, mistakes: m})
			}
		}
	}

	prefix := short(hash) + " "
	if best == nil {
		return noExplanation(prefix, p, keys, checkedName)
	}
	if best.mistakes == 0 {
		return finding{CauseMatch, fmt.Sprintf("%smatches: it is HMAC-SHA256 of the %s with the %s secret (fingerprint %s)",
			prefix, best.idName, p, fingerprint(best.key.value))}
	}
	var why []string
	cause := CauseIdentifierChanged
	if best.mistakes&mistakeChanged != 0 {
		why = append(why, fmt.Sprintf("over the %s %s, not as the app passes it to Intercom", best.idName, best.how))
	}
	if best.mistakes&mistakeIdentifier != 0 {
		cause = CauseIdentifierMismatch
		if checkedName == "user_id" {
			why = append([]string{"over the email, while Intercom checks the user_id the app sends"}, why...)
		} else {
			why = append([]string{"over the user_id, while the app sends only the email, which Intercom then checks"}, why...)
		}
	}
	if best.mistakes&mistakePlatform != 0 {
		cause = CauseWrongPlatformSecret
		why = append([]string{fmt.Sprintf("made with the %s secret (fingerprint %s), but the app runs on %s",
			best.key.platform, fingerprint(best.key.value), p)}, why...)
	}
	return finding{cause, prefix + "is " + strings.Join(why, ", and ")}
}

// noExplanation is the finding when no configured secret explains a hash:
// unknown_secret, or undetermined when a secret could not be read.
func noExplanation(prefix string, p platform.Platform, keys []*key, checkedName string) finding {
	var tried, missing []string
	own := false
	for _, k := range keys {
		if k.value == nil {
			missing = append(missing, k.platform.String())
			continue
		}
		tried = append(tried, k.platform.String())
		own = own || k.platform == p
	}
	switch {
	case len(missing) > 0:
		return finding{CauseUndetermined, fmt.Sprintf("%sis made with none of the secrets that could be read (%s); the %s secret could not be read",
			prefix, orNone(tried), strings.Join(missing, ", "))}
	case !own:
		return finding{CauseUnknownSecret, fmt.Sprintf("%sis made with none of the configured secrets (%s), and %s has none configured here",
			prefix, orNone(tried), p)}
	}
	return finding{CauseUnknownSecret, fmt.Sprintf("%sis made with none of the configured secrets (%s), over the %s or the other identifier, even with its case or white space changed",
		prefix, strings.Join(tried, ", "), checkedName)}
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// short returns the first 8 characters of a hash or token and an ellipsis:
// enough to recognise it, too little to use it.
func short(s string) string {
	if len(s) <= 8 {
		return "…"
	}
	return s[:8] + "…"
}

// checkHash adds the hash check and its cause.
func (d *doctor) checkHash() {
	if d.cfg == nil {
		d.addFinding("hash", finding{CauseUndetermined, short(d.opts.hash) + " not checked: the configuration did not load (see config)"})
		return
	}
	id := identity{userID: d.opts.userID, email: d.opts.email, userIDSent: d.opts.userIDSent, emailSent: d.opts.emailSent}
	f := diagnoseHash(d.opts.platform, id, d.opts.hash, d.keys)
	if f.cause == CauseMatch && strings.ToLower(d.opts.hash) != d.opts.hash {
		f.detail += " (in upper case: pass it as the API returns it, in lower case)"
	}
	d.addFinding("hash", f)
}

// addFinding adds a diagnosis as a check, with its cause's fix.
func (d *doctor) addFinding(name string, f finding) {
	d.causeOf = append(d.causeOf, f.cause)
	if f.cause == CauseMatch {
		d.rep.pass(name, f.detail)
		return
	}
	d.rep.fail(name, f.detail+" ["+string(f.cause)+"]", fixes[f.cause])
}
