// Tests of rotated values: the shape the rotation function writes, and the
// cache reading its secret where a stack asks for the whole SecretString, so
// that switching rotation on never breaks signing.

package secrets_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/shared/secrets"
)

const rotatedSecret = "9Zw0xNs3vKk0fPz9rwKqNbzH3mPVQmQxL9vhSm9Tk4A"

func TestParseRotated(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    secrets.RotatedValue
		ok      bool
		wantErr string
	}{
		{name: "plain secret", in: "dashboard-secret"},
		{name: "JSON object without the id", in: `{"ios":"a","android":"b"}`},
		{name: "only looks like JSON", in: `{"intercom_secret_id":`},
		{name: "rotated value", in: `{"secret":"` + rotatedSecret + `","intercom_secret_id":"103"}`,
			want: secrets.RotatedValue{Secret: rotatedSecret, IntercomSecretID: "103"}, ok: true},
		{name: "rotated value with white space and more fields", in: ` {"intercom_secret_id":"7", "secret":"s", "note":1} `,
			want: secrets.RotatedValue{Secret: "s", IntercomSecretID: "7"}, ok: true},
		{name: "no secret", in: `{"intercom_secret_id":"7"}`, ok: true, wantErr: `no field "secret"`},
		{name: "empty secret", in: `{"secret":"","intercom_secret_id":"7"}`, ok: true, wantErr: `field "secret" of the rotated value is empty`},
		{name: "secret not a string", in: `{"secret":42,"intercom_secret_id":"7"}`, ok: true, wantErr: `field "secret" of the rotated value is not a string`},
		{name: "empty id", in: `{"secret":"s","intercom_secret_id":""}`, ok: true, wantErr: `field "intercom_secret_id" of the rotated value is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok, err := secrets.ParseRotated(tt.in)
			if ok != tt.ok {
				t.Errorf("ok = %v, want %v", ok, tt.ok)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error = %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
			case tt.wantErr != "" && !errors.Is(err, secrets.ErrInvalidValue):
				t.Errorf("error %v does not wrap ErrInvalidValue", err)
			}
			if got != tt.want {
				t.Errorf("value = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRotatedValueMarshalRoundTrip(t *testing.T) {
	v := secrets.RotatedValue{Secret: rotatedSecret, IntercomSecretID: "103"}
	s, err := v.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]string
	if err := json.Unmarshal([]byte(s), &fields); err != nil {
		t.Fatalf("Marshal() = %s, not a JSON object of strings: %v", s, err)
	}
	if want := map[string]string{"secret": rotatedSecret, "intercom_secret_id": "103"}; fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Errorf("Marshal() = %v, want exactly %v", fields, want)
	}
	back, ok, err := secrets.ParseRotated(s)
	if !ok || err != nil || back != v {
		t.Errorf("ParseRotated(Marshal()) = %v, %v, %v; want %v", back, ok, err, v)
	}
	for _, bad := range []secrets.RotatedValue{{Secret: "s"}, {IntercomSecretID: "1"}} {
		if _, err := bad.Marshal(); err == nil {
			t.Errorf("Marshal(%v) succeeded; a rotated value needs both fields", bad)
		}
	}
}

func TestRotatedValueNeverPrintsTheSecret(t *testing.T) {
	v := secrets.RotatedValue{Secret: rotatedSecret, IntercomSecretID: "103"}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("stored", "value", v)
	for name, out := range map[string]string{
		"%v": fmt.Sprintf("%v", v), "%+v": fmt.Sprintf("%+v", v), "%s": fmt.Sprintf("%s", v),
		"in a struct": fmt.Sprintf("%+v", struct{ V secrets.RotatedValue }{v}), "slog": logs.String(),
	} {
		if strings.Contains(out, rotatedSecret) || !strings.Contains(out, "103") {
			t.Errorf("%s = %s, want the id and not the secret", name, out)
		}
	}
}

func TestCacheReadsRotatedValues(t *testing.T) {
	f := newFixture(t)
	rotated := `{"secret":"` + rotatedSecret + `","intercom_secret_id":"103"}`
	f.sm.Put("intercom/ios", rotated)
	f.sm.Put("intercom/plain-json", `{"secret":"not-rotated"}`)
	tests := []struct {
		name string
		ref  secrets.Ref
		want string
	}{
		{name: "the whole value of a rotated secret is its secret", ref: secrets.Ref{ID: "intercom/ios"}, want: rotatedSecret},
		{name: "its secret field asked for by name", ref: secrets.Ref{ID: "intercom/ios", Key: "secret"}, want: rotatedSecret},
		{name: "its id field is an ordinary field", ref: secrets.Ref{ID: "intercom/ios", Key: "intercom_secret_id"}, want: "103"},
		{name: "a JSON object without the id stays a whole string", ref: secrets.Ref{ID: "intercom/plain-json"}, want: `{"secret":"not-rotated"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.cache.Get(context.Background(), tt.ref)
			if err != nil || string(got) != tt.want {
				t.Errorf("Get(%s) = %q, %v; want %q", tt.ref, got, err, tt.want)
			}
		})
	}
}

func TestCacheRefusesABrokenRotatedValue(t *testing.T) {
	const leak = "must-not-leak-anywhere"
	// Each is refused by ParseRotated too: the cache and the rotation
	// function read the rotated shape one way.
	tests := []struct {
		name, value, wantErr string
	}{
		{"an empty secret", `{"secret":"","intercom_secret_id":"103","x":"` + leak + `"}`, `field "secret"`},
		{"no secret", `{"intercom_secret_id":"103","x":"` + leak + `"}`, `field "secret"`},
		{"an id that is not a string", `{"secret":"` + leak + `","intercom_secret_id":103}`, `field "intercom_secret_id"`},
		{"an empty id", `{"secret":"` + leak + `","intercom_secret_id":""}`, `field "intercom_secret_id"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok, err := secrets.ParseRotated(tt.value); !ok || err == nil {
				t.Fatalf("ParseRotated = %v, %v; want a broken rotated value", ok, err)
			}
			f := newFixture(t)
			f.sm.Put("intercom/ios", tt.value)
			_, err := f.cache.Get(context.Background(), secrets.Ref{ID: "intercom/ios"})
			var ue *secrets.UnavailableError
			if !errors.As(err, &ue) || ue.Reason != secrets.ReasonInvalidValue {
				t.Fatalf("Get = %v, want an *UnavailableError with reason %s: signing with the JSON text as the key would make hashes Intercom rejects", err, secrets.ReasonInvalidValue)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want it to name %s", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), leak) || strings.Contains(f.logs.String(), leak) {
				t.Errorf("the value leaked:\nerror: %v\nlogs: %s", err, f.logs)
			}
		})
	}
}

// TestCacheSwitchToRotation is the switch the README promises ("Rotating
// the Intercom secret": switching rotation on changes nothing else): a
// stack whose secret held the dashboard's plain text keeps signing, with
// the same secret ID, once the rotation function has stored its JSON value,
// and after the TTL signs with the rotated secret.
func TestCacheSwitchToRotation(t *testing.T) {
	f := newFixture(t)
	ref := secrets.Ref{ID: "intercom/ios"}
	f.sm.Put("intercom/ios", "dashboard-secret")
	get := func() string {
		t.Helper()
		v, err := f.cache.Get(context.Background(), ref)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		return string(v)
	}
	if got := get(); got != "dashboard-secret" {
		t.Fatalf("before rotation Get = %q, want the plain secret", got)
	}
	f.sm.Put("intercom/ios", `{"secret":"`+rotatedSecret+`","intercom_secret_id":"103"}`)
	if got := get(); got != "dashboard-secret" {
		t.Errorf("within the TTL Get = %q, want the cached plain secret", got)
	}
	f.clock.Advance(testTTL)
	if got := get(); got != rotatedSecret {
		t.Errorf("after the TTL Get = %q, want the rotated secret", got)
	}
	f.sm.Put("intercom/ios", "dashboard-secret-again")
	f.clock.Advance(testTTL)
	if got := get(); got != "dashboard-secret-again" {
		t.Errorf("after switching back to a plain value Get = %q, want it", got)
	}
}

// TestCacheAsksForTheCurrentVersion holds the cache to naming AWSCURRENT:
// the same IAM action and the same answer in AWS, and explicit, so that no
// endpoint can answer with another version while a rotation's AWSPENDING
// one exists.
func TestCacheAsksForTheCurrentVersion(t *testing.T) {
	var (
		mu     sync.Mutex
		stages []string
	)
	srv := httptest.NewServer(awsfake.Handler(func(_ string, body []byte) (any, *awsfake.Error) {
		var in struct{ VersionStage, VersionId string }
		_ = json.Unmarshal(body, &in)
		mu.Lock()
		stages = append(stages, in.VersionStage+"|"+in.VersionId)
		mu.Unlock()
		return map[string]any{"Name": "s", "SecretString": "v", "VersionId": "1", "VersionStages": []string{"AWSCURRENT"}}, nil
	}))
	defer srv.Close()
	client := secrets.NewClient(awsfake.Config(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	cache := secrets.NewCache(client)
	if _, err := cache.Get(context.Background(), secrets.Ref{ID: "s"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(stages) != 1 || stages[0] != "AWSCURRENT|" {
		t.Errorf("GetSecretValue asked for VersionStage|VersionId = %v, want [AWSCURRENT|]", stages)
	}
}
