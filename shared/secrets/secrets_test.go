// Tests of the configuration-side types: Static.

package secrets_test

import (
	"context"
	"errors"
	"testing"

	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

func TestStatic(t *testing.T) {
	s := secrets.Static{platform.IOS: []byte("i"), platform.Web: nil}
	tests := []struct {
		name    string
		p       platform.Platform
		want    string
		wantErr error
	}{
		{name: "set", p: platform.IOS, want: "i"},
		{name: "empty counts as unset", p: platform.Web, wantErr: secrets.ErrNotConfigured},
		{name: "unset", p: platform.Android, wantErr: secrets.ErrNotConfigured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.PlatformSecret(context.Background(), tt.p)
			if !errors.Is(err, tt.wantErr) || string(got) != tt.want {
				t.Errorf("PlatformSecret(%s) = %q, %v; want %q, %v", tt.p, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
