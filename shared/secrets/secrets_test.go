// Tests of the configuration-side types: Ref parsing and Static.

package secrets_test

import (
	"context"
	"errors"
	"testing"

	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

func TestParseRef(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    secrets.Ref
		wantErr bool
	}{
		{name: "name", in: "prod/intercom", want: secrets.Ref{ID: "prod/intercom"}},
		{name: "name and key", in: "prod/intercom#ios", want: secrets.Ref{ID: "prod/intercom", Key: "ios"}},
		{name: "ARN and key", in: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/intercom-AbCdEf#web",
			want: secrets.Ref{ID: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/intercom-AbCdEf", Key: "web"}},
		{name: "key may hold '#'", in: "s#a#b", want: secrets.Ref{ID: "s", Key: "a#b"}},
		{name: "empty", in: "", wantErr: true},
		{name: "empty ID", in: "#ios", wantErr: true},
		{name: "empty key", in: "s#", wantErr: true},
		{name: "white space", in: "prod intercom", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := secrets.ParseRef(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseRef(%q) error = %v, want error: %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseRef(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if !tt.wantErr && got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

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
