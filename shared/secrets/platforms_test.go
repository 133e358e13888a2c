// Tests of Platforms: each platform gets its own secret, never another's,
// and errors name the platform and the secret but no value.

package secrets_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

func TestPlatformsPlatformSecret(t *testing.T) {
	f := newFixture(t)
	f.sm.Put("intercom/ios", "ios-value")
	f.sm.Put("intercom/mobile", `{"android":"android-value"}`)
	src := &secrets.Platforms{
		Cache: f.cache,
		Refs: map[platform.Platform]secrets.Ref{
			platform.IOS:     {ID: "intercom/ios"},
			platform.Android: {ID: "intercom/mobile", Key: "android"},
		},
	}
	src.Prefetch(context.Background())

	tests := []struct {
		name    string
		p       platform.Platform
		want    string
		wantErr error
	}{
		{name: "iOS whole secret", p: platform.IOS, want: "ios-value"},
		{name: "Android from a JSON key", p: platform.Android, want: "android-value"},
		{name: "web not configured", p: platform.Web, wantErr: secrets.ErrNotConfigured},
		{name: "not a platform", p: platform.Platform(0), wantErr: secrets.ErrNotConfigured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := src.PlatformSecret(context.Background(), tt.p)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("PlatformSecret(%s) error = %v, want %v", tt.p, err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Errorf("PlatformSecret(%s) = %q, want %q", tt.p, got, tt.want)
			}
		})
	}
	if got := f.sm.TotalCalls(); got != 2 {
		t.Errorf("GetSecretValue calls = %d, want 2 (Prefetch only)", got)
	}
}

func TestPlatformsMissingSecretLeavesOthersWorking(t *testing.T) {
	f := newFixture(t)
	f.sm.Put("intercom/ios", "ios-value")
	src := &secrets.Platforms{
		Cache: f.cache,
		Refs: map[platform.Platform]secrets.Ref{
			platform.IOS:     {ID: "intercom/ios"},
			platform.Android: {ID: "intercom/android-missing"},
		},
	}
	ctx := context.Background()
	_, err := src.PlatformSecret(ctx, platform.Android)
	var ue *secrets.UnavailableError
	if !errors.As(err, &ue) || ue.Reason != secrets.ReasonNotFound {
		t.Fatalf("Android = %v, want an *UnavailableError with reason not_found", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "android") || !strings.Contains(msg, "intercom/android-missing") {
		t.Errorf("error %q does not name the platform and the secret", msg)
	}
	got, err := src.PlatformSecret(ctx, platform.IOS)
	if err != nil || string(got) != "ios-value" {
		t.Errorf("iOS = %q, %v; want ios-value", got, err)
	}
}

func TestPlatformsStaticForLocalRuns(t *testing.T) {
	f := newFixture(t)
	f.sm.Put("intercom/ios", "ios-value")
	src := &secrets.Platforms{
		Cache:  f.cache,
		Refs:   map[platform.Platform]secrets.Ref{platform.IOS: {ID: "intercom/ios"}},
		Static: secrets.Static{platform.Web: []byte("web-literal")},
	}
	tests := []struct {
		name    string
		p       platform.Platform
		want    string
		wantErr error
	}{
		{name: "Secrets Manager", p: platform.IOS, want: "ios-value"},
		{name: "literal", p: platform.Web, want: "web-literal"},
		{name: "neither", p: platform.Android, wantErr: secrets.ErrNotConfigured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := src.PlatformSecret(context.Background(), tt.p)
			if !errors.Is(err, tt.wantErr) || string(got) != tt.want {
				t.Errorf("PlatformSecret(%s) = %q, %v; want %q, %v", tt.p, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
