// diagnoseHash names each known mistake from the hash alone, and never
// calls a wrong hash a match.

package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/intercom-identity/userhash/shared/platform"
)

// The secrets of the unit tests: each differs, so that a hash made with one
// is never taken for another's.
const (
	iosSecret     = "unit-ios-secret-1"
	androidSecret = "unit-android-secret-2"
	webSecret     = "unit-web-secret-3"
)

func unitKeys() []*key {
	return []*key{
		{platform: platform.IOS, value: []byte(iosSecret)},
		{platform: platform.Android, value: []byte(androidSecret)},
		{platform: platform.Web, value: []byte(webSecret)},
	}
}

// hmacHex is an independent HMAC-SHA256, so that the tests do not trust
// the signing code they check the diagnosis of.
func hmacHex(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func TestDiagnoseHash(t *testing.T) {
	both := identity{userID: "u-123", email: "alice@example.com", userIDSent: true, emailSent: true}
	userOnly := identity{userID: "u-123", userIDSent: true}
	emailOnly := identity{email: "alice@example.com", emailSent: true}
	emailSentUserKnown := identity{userID: "u-123", email: "alice@example.com", emailSent: true}

	tests := []struct {
		name   string
		p      platform.Platform
		id     identity
		hash   string
		keys   []*key
		want   Cause
		detail []string // words the detail must hold
	}{
		{name: "match over the user_id", p: platform.IOS, id: both, hash: hmacHex(iosSecret, "u-123"), want: CauseMatch, detail: []string{"user_id", "ios secret", "fingerprint"}},
		{name: "match over the email without a user_id", p: platform.Web, id: emailOnly, hash: hmacHex(webSecret, "alice@example.com"), want: CauseMatch, detail: []string{"email", "web secret"}},
		{name: "upper-case hex still matches", p: platform.IOS, id: userOnly, hash: strings.ToUpper(hmacHex(iosSecret, "u-123")), want: CauseMatch},
		{name: "another platform's secret", p: platform.IOS, id: both, hash: hmacHex(androidSecret, "u-123"), want: CauseWrongPlatformSecret, detail: []string{"android secret", "runs on ios"}},
		{name: "the email hashed while a user_id is sent", p: platform.Android, id: both, hash: hmacHex(androidSecret, "alice@example.com"), want: CauseIdentifierMismatch, detail: []string{"over the email", "checks the user_id"}},
		{name: "the user_id hashed while only the email is sent", p: platform.Android, id: emailSentUserKnown, hash: hmacHex(androidSecret, "u-123"), want: CauseIdentifierMismatch, detail: []string{"over the user_id", "only the email"}},
		{name: "sent in another case than signed", p: platform.IOS, id: identity{email: "Alice@Example.com", emailSent: true}, hash: hmacHex(iosSecret, "alice@example.com"), want: CauseIdentifierChanged, detail: []string{"lower-cased"}},
		{name: "a trailing space added on the way", p: platform.IOS, id: identity{userID: "u-123 ", userIDSent: true}, hash: hmacHex(iosSecret, "u-123"), want: CauseIdentifierChanged, detail: []string{"trimmed"}},
		{name: "a secret nobody here has", p: platform.IOS, id: both, hash: hmacHex("another-workspace-secret", "u-123"), want: CauseUnknownSecret, detail: []string{"none of the configured secrets"}},
		{name: "the right secret over another user", p: platform.IOS, id: both, hash: hmacHex(iosSecret, "u-999"), want: CauseUnknownSecret},
		{name: "two mistakes: the platform is named first", p: platform.IOS, id: both, hash: hmacHex(webSecret, "alice@example.com"), want: CauseWrongPlatformSecret, detail: []string{"web secret", "over the email"}},
		{name: "a platform with no secret here", p: platform.Web, id: userOnly, hash: hmacHex(webSecret, "u-123"), keys: unitKeys()[:2], want: CauseUnknownSecret, detail: []string{"web has none configured"}},
		{name: "its own secret unreadable", p: platform.IOS, id: userOnly, hash: hmacHex(iosSecret, "u-123"),
			keys: []*key{{platform: platform.IOS}, {platform: platform.Android, value: []byte(androidSecret)}}, want: CauseUndetermined, detail: []string{"ios secret could not be read"}},
		{name: "another platform's secret found though its own is unreadable", p: platform.IOS, id: userOnly, hash: hmacHex(androidSecret, "u-123"),
			keys: []*key{{platform: platform.IOS}, {platform: platform.Android, value: []byte(androidSecret)}}, want: CauseWrongPlatformSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := tt.keys
			if keys == nil {
				keys = unitKeys()
			}
			got := diagnoseHash(tt.p, tt.id, tt.hash, keys)
			if got.cause != tt.want {
				t.Errorf("cause = %s, want %s (detail %q)", got.cause, tt.want, got.detail)
			}
			for _, w := range tt.detail {
				if !strings.Contains(got.detail, w) {
					t.Errorf("detail %q does not say %q", got.detail, w)
				}
			}
			for _, s := range []string{tt.hash, iosSecret, androidSecret, webSecret} {
				if strings.Contains(got.detail, s) {
					t.Errorf("detail %q holds a secret or the whole hash", got.detail)
				}
			}
		})
	}
}

func TestVariants(t *testing.T) {
	got := variants(" Alice@Example.com")
	want := []string{" Alice@Example.com", "Alice@Example.com", " alice@example.com", " ALICE@EXAMPLE.COM", "alice@example.com", "ALICE@EXAMPLE.COM"}
	if len(got) != len(want) {
		t.Fatalf("got %d variants %v, want %d", len(got), got, len(want))
	}
	for i, v := range got {
		if v.value != want[i] {
			t.Errorf("variant %d = %q, want %q", i, v.value, want[i])
		}
	}
	if n := len(variants("u-1")); n != 2 {
		t.Errorf("variants of %q: got %d, want 2 (as given, upper-cased): no duplicates", "u-1", n)
	}
}

func TestFingerprint(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2's first example:
	// ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.
	if got := fingerprint([]byte("abc")); got != "ba7816bf" {
		t.Errorf("fingerprint(abc) = %s, want ba7816bf", got)
	}
}
