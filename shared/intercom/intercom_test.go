// Tests of the client against the Intercom fake: the documented calls and
// answers, every failure as an *APIError that names the call and status and
// never the token, and each call bounded in time.

package intercom_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/intercom-identity/userhash/internal/intercomfake"
	"github.com/intercom-identity/userhash/shared/intercom"
	"github.com/intercom-identity/userhash/shared/platform"
)

const token = "dG9rOmFiY2RlZmdoaS1zZWNyZXQtdG9rZW4="

func newClient(t *testing.T, opts ...intercom.Option) (*intercom.Client, *intercomfake.Fake) {
	t.Helper()
	f := intercomfake.New(token)
	c, err := intercom.New(f.Start(t), token, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

func TestCreateListDelete(t *testing.T) {
	c, f := newClient(t)
	ctx := context.Background()
	hand := f.AddSecret("Production iOS", "dashboard-secret", platform.IOS)

	s, err := c.CreateSecret(ctx, "rotated web", platform.Web)
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	if s.ID == "" || s.Name != "rotated web" || !s.Supports(platform.Web) || s.Supports(platform.IOS) || s.Supports(platform.Android) {
		t.Errorf("created = %+v, want a web-only secret named as asked", s)
	}
	live := f.Live(platform.Web)
	if len(live) != 1 || string(s.Secret) != live[0].Material || len(s.Secret) != 43 {
		t.Errorf("the returned material is not the 43-character base64url secret Intercom holds")
	}

	list, err := c.ListSecrets(ctx)
	if err != nil {
		t.Fatalf("ListSecrets: %v", err)
	}
	if len(list) != 2 || list[0].ID != hand || list[1].ID != s.ID {
		t.Fatalf("listed %+v, want the hand-made secret and the created one", list)
	}
	for _, l := range list {
		if l.Secret != "" {
			t.Errorf("the list shows the material of %s; Intercom shows it only on create", l.ID)
		}
	}
	if !list[0].SupportsIOS || list[0].Name != "Production iOS" || list[0].CreatedAt == 0 {
		t.Errorf("listed %+v, want its name, platform and created_at", list[0])
	}

	if err := c.DeleteSecret(ctx, s.ID); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	if got := f.Live(platform.Web); len(got) != 0 {
		t.Errorf("after delete, live web secrets = %v", got)
	}
	err = c.DeleteSecret(ctx, s.ID)
	var ae *intercom.APIError
	if !errors.Is(err, intercom.ErrNotFound) || !errors.As(err, &ae) || ae.Code != "identity_verification_secret_not_found" {
		t.Errorf("deleting again = %v, want a 404 identity_verification_secret_not_found matching ErrNotFound", err)
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name       string
		fault      intercomfake.Fault
		call       func(*intercom.Client) error
		wantStatus int
		wantCode   string
		wantText   string
	}{
		{name: "401 on list", fault: intercomfake.Status(401), call: list, wantStatus: 401, wantCode: "unauthorized",
			wantText: "Intercom GET /secure_mode_secrets: HTTP 401 unauthorized: Access Token Invalid (request_id "},
		{name: "503 on create", fault: intercomfake.Status(503), call: create, wantStatus: 503, wantCode: "server_error",
			wantText: "Intercom POST /secure_mode_secrets: HTTP 503 server_error"},
		{name: "500 on delete", fault: intercomfake.Status(500), call: del, wantStatus: 500, wantCode: "server_error",
			wantText: "Intercom DELETE /secure_mode_secrets/101: HTTP 500"},
		{name: "429 on list", fault: intercomfake.Status(429), call: list, wantStatus: 429, wantCode: "rate_limit_exceeded"},
		{name: "create answered with nothing", fault: intercomfake.LoseResponse(), call: create, wantStatus: 0,
			wantText: "Intercom POST /secure_mode_secrets: no answer: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := newClient(t)
			f.AddSecret("hand-made", "m", platform.IOS) // id 101
			f.Inject(intercomfake.List, tt.fault)
			f.Inject(intercomfake.Create, tt.fault)
			f.Inject(intercomfake.Delete, tt.fault)
			err := tt.call(c)
			var ae *intercom.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error = %v, want an *APIError", err)
			}
			if ae.Status != tt.wantStatus || ae.Code != tt.wantCode {
				t.Errorf("status %d code %q, want %d %q", ae.Status, ae.Code, tt.wantStatus, tt.wantCode)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantText)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error %q shows the access token", err)
			}
		})
	}
}

func list(c *intercom.Client) error { _, err := c.ListSecrets(context.Background()); return err }

func create(c *intercom.Client) error {
	_, err := c.CreateSecret(context.Background(), "n", platform.Android)
	return err
}

func del(c *intercom.Client) error { return c.DeleteSecret(context.Background(), "101") }

func TestUnprocessableCreate(t *testing.T) {
	c, f := newClient(t)
	_, err := c.CreateSecret(context.Background(), "no platform")
	var ae *intercom.APIError
	if !errors.As(err, &ae) || ae.Status != 422 || ae.Code != "parameter_invalid" {
		t.Errorf("create with no platform = %v, want 422 parameter_invalid", err)
	}
	if _, err := c.CreateSecret(context.Background(), "", platform.IOS); !errors.As(err, &ae) || ae.Message != "name is required" {
		t.Errorf("create with no name = %v, want 422 name is required", err)
	}
	if n := len(f.All()); n != 0 {
		t.Errorf("refused creates made %d secrets", n)
	}
}

func TestWrongTokenIsRefused(t *testing.T) {
	f := intercomfake.New(token)
	c, err := intercom.New(f.Start(t), "another-token")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListSecrets(context.Background())
	var ae *intercom.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Errorf("list with a wrong token = %v, want 401", err)
	}
	if strings.Contains(err.Error(), "another-token") {
		t.Errorf("error %q shows the token", err)
	}
}

func TestCallsAreBounded(t *testing.T) {
	t.Run("by the call timeout", func(t *testing.T) {
		c, f := newClient(t, intercom.WithCallTimeout(50*time.Millisecond))
		f.Inject(intercomfake.List, intercomfake.Slow(time.Minute))
		_, err := c.ListSecrets(context.Background())
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a list that never answers = %v, want a deadline error", err)
		}
	})
	t.Run("by the caller's deadline when sooner", func(t *testing.T) {
		c, f := newClient(t) // the default call timeout is seconds
		f.Inject(intercomfake.Create, intercomfake.Slow(time.Minute))
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.CreateSecret(ctx, "n", platform.IOS)
		var ae *intercom.APIError
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ae) || ae.Status != 0 {
			t.Errorf("a create that never answers = %v, want an *APIError with no status and a deadline error", err)
		}
	})
}

func TestNewRefusesBadConfiguration(t *testing.T) {
	tests := []struct {
		name, url, token string
	}{
		{"plain http to a remote host", "http://api.intercom.io", token},
		{"no scheme", "api.intercom.io", token},
		{"a path", "https://api.intercom.io/v2", token},
		{"a query", "https://api.intercom.io?x=1", token},
		{"credentials in the URL", "https://u:p@api.intercom.io", token},
		{"empty token", intercom.DefaultBaseURL, ""},
		{"token with a newline", intercom.DefaultBaseURL, "abc\r\nX-Evil: 1"},
		{"token with a space", intercom.DefaultBaseURL, "abc def"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := intercom.New(tt.url, tt.token)
			if err == nil {
				t.Fatalf("New(%q) succeeded", tt.url)
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
	for _, ok := range []string{"https://api.intercom.io", "https://api.eu.intercom.io/", "https://api.au.intercom.io", "http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:2"} {
		if _, err := intercom.New(ok, token); err != nil {
			t.Errorf("New(%q) = %v, want it accepted", ok, err)
		}
	}
}

func TestMaterialNeverPrints(t *testing.T) {
	s := intercom.Secret{ID: "103", Secret: "9Zw0xNs3vKk0fPz9rwKqNbzH3mPVQmQxL9vhSm9Tk4A"}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("created", "secret", s, "material", s.Secret)
	for _, out := range []string{fmt.Sprintf("%v", s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), logs.String()} {
		if strings.Contains(out, string(s.Secret)) {
			t.Errorf("printed %s, which shows the material", out)
		}
	}
}
