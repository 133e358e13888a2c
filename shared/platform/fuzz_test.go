// A fuzz target for Parse: whatever name an app sends, Parse answers
// quickly, and only the documented spellings, in any case, name a platform.
// Seed corpus: testdata/fuzz/FuzzParse.

package platform_test

import (
	"strings"
	"testing"

	"github.com/intercom-identity/userhash/shared/platform"
)

// documented is the README's list of names ("The API"), written out again
// here so that a change to Parse's table cannot go unnoticed.
var documented = map[string]platform.Platform{
	"ios": platform.IOS, "iphone": platform.IOS, "ipad": platform.IOS, "ipod": platform.IOS,
	"iphone simulator": platform.IOS,
	"android":          platform.Android,
	"web":              platform.Web, "browser": platform.Web,
}

func FuzzParse(f *testing.F) {
	for name := range documented {
		f.Add(name)
	}
	for _, name := range []string{"", "IOS", "iPhone Simulator", " ios", "ios ", "ios\x00", "i\u0307os", "İOS", "\u212aindle", strings.Repeat("ios", 1000)} {
		f.Add(name)
	}
	f.Fuzz(func(t *testing.T, name string) {
		p, err := platform.Parse(name)
		want, ok := documented[asciiLower(name)]
		if !ok {
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error: it is no documented name", name, p)
			}
			if p != 0 {
				t.Fatalf("Parse(%q) failed but returned %v, want the zero Platform", name, p)
			}
			return
		}
		if err != nil || p != want {
			t.Fatalf("Parse(%q) = %v, %v; want %v", name, p, err, want)
		}
		if !p.Valid() {
			t.Fatalf("Parse(%q) = %v, which is not Valid", name, p)
		}
		// The canonical name parses back to the same platform.
		if q, err := platform.Parse(p.String()); err != nil || q != p {
			t.Fatalf("Parse(%q) = %v, %v; want %v", p.String(), q, err, p)
		}
	})
}

// asciiLower lowers ASCII letters only, and reports names with any other
// byte unchanged: "without regard to case" is meant for what SDKs send,
// and no Unicode case folding may turn another name into a platform's.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
