package platform_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/intercom-identity/userhash/shared/platform"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want platform.Platform
	}{
		{name: "ios lower", in: "ios", want: platform.IOS},
		{name: "iOS as Capacitor reports it", in: "iOS", want: platform.IOS},
		{name: "iPhone as old Cordova reports it", in: "iPhone", want: platform.IOS},
		{name: "iPad", in: "iPad", want: platform.IOS},
		{name: "iPod", in: "iPod", want: platform.IOS},
		{name: "iPhone Simulator", in: "iPhone Simulator", want: platform.IOS},
		{name: "IOS upper", in: "IOS", want: platform.IOS},
		{name: "Android", in: "Android", want: platform.Android},
		{name: "android lower", in: "android", want: platform.Android},
		{name: "web", in: "web", want: platform.Web},
		{name: "browser as Cordova reports it", in: "browser", want: platform.Web},
		{name: "Web mixed case", in: "WeB", want: platform.Web},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := platform.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error = %v, want nil", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Parse(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{
		"", "windows", "macos", "osx", "electron", " ios", "ios ", "i os",
		"iphone\x00", "androidx", "webos", "iphonesimulator", "0", "null",
		strings.Repeat("ios", 1<<18),
	} {
		name := in
		if len(name) > 20 {
			name = name[:20] + "..."
		}
		t.Run(name, func(t *testing.T) {
			got, err := platform.Parse(in)
			if !errors.Is(err, platform.ErrUnknown) {
				t.Errorf("Parse(%q) = %v, %v; want ErrUnknown", name, got, err)
			}
		})
	}
}

func TestStringAndPrefix(t *testing.T) {
	tests := []struct {
		p            platform.Platform
		name, prefix string
	}{
		{platform.IOS, "ios", "IOS"},
		{platform.Android, "android", "ANDROID"},
		{platform.Web, "web", "WEB"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.name {
			t.Errorf("String() = %q, want %q", got, tt.name)
		}
		if got := tt.p.EnvPrefix(); got != tt.prefix {
			t.Errorf("EnvPrefix() = %q, want %q", got, tt.prefix)
		}
		// The canonical name parses back to the same platform.
		if back, err := platform.Parse(tt.name); err != nil || back != tt.p {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.name, back, err, tt.p)
		}
	}
	if platform.Platform(0).Valid() {
		t.Error("zero Platform is Valid, want not")
	}
}
