// Package platform names the app platforms that Intercom gives separate
// identity-verification secrets to, and parses the names apps send for them.
//
// Each platform has its own secret in Intercom; a hash made with the iOS
// secret fails on Android. Parse maps the many spellings that SDKs and
// Cordova's device.platform report onto the three platforms:
//
//	p, err := platform.Parse("iPhone") // platform.IOS, nil
//	p.String()                         // "ios"
//	p.EnvPrefix()                      // "IOS", as in IOS_SECRET_ID
package platform

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Platform is one of the Intercom messenger platforms. The zero value is not
// a platform.
type Platform int

// The platforms, in the order they are listed to users.
const (
	IOS Platform = iota + 1
	Android
	Web
)

// All returns every platform in a stable order: the order they are listed
// to users.
func All() []Platform { return []Platform{IOS, Android, Web} }

// ErrUnknown is returned by Parse for a name that is no platform.
var ErrUnknown = errors.New("unknown platform")

// aliases maps the lower-cased names apps send onto platforms. Old Cordova
// versions report "iPhone", simulators "iPhone Simulator", browsers "browser".
var aliases = map[string]Platform{
	"ios":              IOS,
	"iphone":           IOS,
	"ipad":             IOS,
	"ipod":             IOS,
	"iphone simulator": IOS,
	"android":          Android,
	"web":              Web,
	"browser":          Web,
}

// Parse returns the platform that name stands for, matched without regard to
// ASCII case and with no trimming: " ios" is not a platform.
func Parse(name string) (Platform, error) {
	// Names longer than the longest alias cannot match; checking first keeps
	// a hostile megabyte-long name from being lower-cased.
	var lower [len("iphone simulator")]byte
	if len(name) > len(lower) {
		return 0, ErrUnknown
	}
	// ASCII folding only: Unicode's would also take "İOS" (U+0130, whose
	// lower case is "i") for iOS, a name no SDK sends and the README does
	// not list. Folding into an array also spares an allocation per request.
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= utf8.RuneSelf {
			return 0, ErrUnknown
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	if p, ok := aliases[string(lower[:len(name)])]; ok {
		return p, nil
	}
	return 0, ErrUnknown
}

// String returns the canonical lower-case name: "ios", "android" or "web".
func (p Platform) String() string {
	switch p {
	case IOS:
		return "ios"
	case Android:
		return "android"
	case Web:
		return "web"
	}
	return "unknown"
}

// EnvPrefix returns the prefix of the platform's configuration variables:
// "IOS", "ANDROID" or "WEB".
func (p Platform) EnvPrefix() string {
	return strings.ToUpper(p.String())
}

// Valid reports whether p is one of the platforms.
func (p Platform) Valid() bool {
	return p >= IOS && p <= Web
}
