// The fake held to Intercom's API description with raw HTTP, so that the
// client's tests rest on answers shaped as Intercom documents them.

package intercomfake_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/intercom-identity/userhash/internal/intercomfake"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/signing"
)

func TestDocumentedAnswers(t *testing.T) {
	f := intercomfake.New("tok")
	base := f.Start(t)
	f.AddSecret("Production Web", "web-material", platform.Web)
	tests := []struct {
		name, method, path, body, token, version string
		wantStatus                               int
		want                                     string // a JSON fragment of the answer
		notWant                                  string
	}{
		{name: "list", method: "GET", path: "/secure_mode_secrets", token: "tok", version: "Preview", wantStatus: 200,
			want: `"type":"list"`, notWant: "web-material"},
		{name: "create", method: "POST", path: "/secure_mode_secrets", body: `{"name":"n","supports_ios":true}`, token: "tok", version: "Preview",
			wantStatus: 201, want: `"secret":"`},
		{name: "create without name", method: "POST", path: "/secure_mode_secrets", body: `{"supports_ios":true}`, token: "tok", version: "Preview",
			wantStatus: 422, want: `"errors":[{"code":"parameter_invalid","message":"name is required"}]`},
		{name: "delete unknown", method: "DELETE", path: "/secure_mode_secrets/999", token: "tok", version: "Preview",
			wantStatus: 404, want: `"code":"identity_verification_secret_not_found"`},
		{name: "bad token", method: "GET", path: "/secure_mode_secrets", token: "nope", version: "Preview",
			wantStatus: 401, want: `"type":"error.list"`},
		{name: "no version header", method: "GET", path: "/secure_mode_secrets", token: "tok",
			wantStatus: 400, want: `"code":"intercom_version_invalid"`},
		{name: "version 2.14", method: "GET", path: "/secure_mode_secrets", token: "tok", version: "2.14",
			wantStatus: 400, want: `"code":"intercom_version_invalid"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, base+tt.path, strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+tt.token)
			if tt.version != "" {
				req.Header.Set("Intercom-Version", tt.version)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(b), tt.want) {
				t.Errorf("%s %s = %d %s, want %d with %s", tt.method, tt.path, resp.StatusCode, b, tt.wantStatus, tt.want)
			}
			if tt.notWant != "" && strings.Contains(string(b), tt.notWant) {
				t.Errorf("answer %s shows %q", b, tt.notWant)
			}
			if !json.Valid(b) {
				t.Errorf("answer %q is not JSON", b)
			}
		})
	}
}

func TestVerifies(t *testing.T) {
	f := intercomfake.New("tok")
	f.AddSecret("ios", "ios-material", platform.IOS)
	hash := signing.UserHash([]byte("ios-material"), "u-1")
	jwt, _, err := signing.UserJWT([]byte("ios-material"), "u-1", "", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !f.VerifiesHash(platform.IOS, "u-1", hash) || !f.VerifiesJWT(platform.IOS, jwt) {
		t.Error("a hash and a JWT made with the live iOS secret do not verify on iOS")
	}
	if f.VerifiesHash(platform.Android, "u-1", hash) || f.VerifiesJWT(platform.Android, jwt) {
		t.Error("an iOS hash verifies on Android")
	}
	if f.VerifiesHash(platform.IOS, "u-2", hash) {
		t.Error("a hash verifies for another user")
	}
}
