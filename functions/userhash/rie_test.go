// The built bootstrap inside the real Lambda runtime, with no Docker: the
// AWS Lambda Runtime Interface Emulator (RIE, the runtime API that Lambda's
// base images ship) runs the bootstrap that `make build-UserHashFunction`
// writes, built for this machine's architecture. Its secrets are in moto's
// Secrets Manager and, in password mode, its users in moto's Cognito:
// endpoints that are not ours. Every file in events/ is invoked through
// the Lambda Invoke API, as `sam local invoke -e` would, and each answer
// must be the right status and body, with a hash an independent HMAC
// agrees with.

package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intercom-identity/userhash/internal/testenv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/golang-jwt/jwt/v5"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/internal/eventstest"
	"github.com/intercom-identity/userhash/internal/openapitest"
	"github.com/intercom-identity/userhash/internal/rie"
)

// The platform secrets the emulated function reads from moto. Android's
// is a field of a JSON secret, as ANDROID_SECRET_ID=ARN#key reads it.
var rieSecrets = map[string]string{
	"ios":     "rie-ios-secret",
	"android": "rie-android-secret",
	"web":     "rie-web-secret",
}

// The user of events/password-signin.json, in moto's Cognito.
const (
	rieUsername = "alice@example.com"
	riePassword = "demo-password"
)

func TestEventsInLambdaRuntime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("the Lambda Runtime Interface Emulator runs on Linux only, not %s", runtime.GOOS)
	}
	rieBin := lambdaEmulator(t)
	bootstrap := hostBootstrap(t)
	motoURL := awsfake.StartMoto(t)
	env := rieBaseEnv(t, motoURL)
	for k, v := range rieMotoSecrets(t, motoURL) {
		env[k] = v
	}
	clientID := rieMotoPool(t, motoURL)

	// One function per mode, each started on its first event, as Lambda
	// starts an execution environment, and kept until the whole test ends.
	functions := map[bool]*emulated{}
	function := func(password bool) *emulated {
		if f := functions[password]; f != nil {
			return f
		}
		fenv := map[string]string{"AUTH_MODE": "jwt", "USER_JWT_ATTRIBUTES": eventstest.JWTAttributes}
		if password {
			fenv = map[string]string{
				"AUTH_MODE":         "password",
				"COGNITO_CLIENT_ID": clientID,
				"USER_ID_CLAIM":     "custom:intercom_id",
			}
		}
		for k, v := range env {
			fenv[k] = v
		}
		f := startEmulator(t, rieBin, bootstrap, fenv)
		functions[password] = f
		return f
	}

	spec := openapitest.Load(t)
	for _, name := range eventstest.Names(t) {
		t.Run(name, func(t *testing.T) {
			tt := eventstest.Outcomes[name]
			event := eventstest.Raw(t, name)
			resp := function(tt.Password).invoke(t, event)
			if err := spec.CheckEvent(eventstest.Load(t, name), resp); err != nil {
				t.Errorf("the answer breaks openapi.yaml: %v", err)
			}
			if got := resp.Headers["Cache-Control"]; got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if tt.Code != "" {
				checkRIEProblem(t, resp, tt.Status, tt.Code)
				return
			}
			if resp.StatusCode != tt.Status || resp.Headers["Content-Type"] != "application/json" {
				t.Fatalf("got %d %q %s, want %d application/json", resp.StatusCode, resp.Headers["Content-Type"], resp.Body, tt.Status)
			}
			var got success
			if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
				t.Fatalf("body %s: %v", resp.Body, err)
			}
			// The JWT and its expiry are checked below, against the token's
			// own claims; everything else must be exactly this.
			want := success{
				Platform: tt.Platform, UserID: tt.UserID, Email: tt.Email,
				UserHash: independentHash(rieSecrets[tt.Platform], tt.HashOver),
			}
			jwtPart := success{UserJWT: got.UserJWT, Expires: got.Expires}
			got.UserJWT, got.Expires = "", ""
			if got != want {
				t.Errorf("body = %+v\nwant   %+v", got, want)
			}
			if (jwtPart.UserJWT != "") != (tt.UserID != "") || (jwtPart.Expires != "") != (tt.UserID != "") {
				t.Fatalf("user_jwt %q, user_jwt_expires_at %q; want both only with a user_id", jwtPart.UserJWT, jwtPart.Expires)
			}
			if jwtPart.UserJWT != "" {
				claims := jwt.MapClaims{}
				if _, err := jwt.ParseWithClaims(jwtPart.UserJWT, claims, func(*jwt.Token) (any, error) { return []byte(rieSecrets[tt.Platform]), nil },
					jwt.WithValidMethods([]string{"HS256"})); err != nil {
					t.Fatalf("user_jwt does not verify with the %s secret: %v", tt.Platform, err)
				}
				// Exactly user_id, iat, exp, the email when one is known
				// (never an unverified one) and the attributes.
				want := map[string]any{"user_id": tt.UserID, "iat": claims["iat"], "exp": claims["exp"]}
				if tt.Email != "" {
					want["email"] = tt.Email
				}
				for k, v := range tt.Attributes {
					want[k] = v
				}
				if !reflect.DeepEqual(map[string]any(claims), want) {
					t.Errorf("user_jwt claims = %v, want %v", claims, want)
				}
				// USER_JWT_TTL is unset: one hour, in whole seconds, and the
				// response's expiry is the token's exp in RFC 3339 UTC.
				iat, _ := claims["iat"].(float64)
				exp, _ := claims["exp"].(float64)
				if exp-iat != 3600 {
					t.Errorf("user_jwt exp - iat = %v s, want 3600 (USER_JWT_TTL's default of 1h)", exp-iat)
				}
				if want := time.Unix(int64(exp), 0).UTC().Format(time.RFC3339); jwtPart.Expires != want {
					t.Errorf("user_jwt_expires_at = %q, want the token's exp, %s", jwtPart.Expires, want)
				}
			}
		})
	}

	for password, f := range functions {
		mode := map[bool]string{false: "jwt", true: "password"}[password]
		init, ok := f.InitDuration()
		if !ok {
			t.Errorf("%s mode: the emulator printed no INIT REPORT; its output:\n%s", mode, f.Output())
			continue
		}
		// The cold start, prefetching the platform secrets from moto.
		t.Logf("%s mode: INIT REPORT durationMs %.1f (runtime %s/%s)", mode, init, runtime.GOOS, runtime.GOARCH)
		f.checkLogClean(t)
	}
}

// lambdaEmulator returns the RIE binary that `make rie` builds from the Go
// module proxy into .tools/bin, building it if it is not there yet.
func lambdaEmulator(t *testing.T) string {
	t.Helper()
	testenv.NeedsTool(t, "make")
	out, err := exec.Command("make", "-C", repoRoot, "--no-print-directory", "rie").CombinedOutput()
	if err != nil {
		t.Fatalf("make rie could not build the Lambda Runtime Interface Emulator (it needs the Go module proxy once, then .tools/bin caches it): %v\n%s", err, out)
	}
	bin := filepath.Join(repoRoot, ".tools", "bin", "aws-lambda-rie")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("make rie succeeded but left no emulator: %v", err)
	}
	return bin
}

// hostBootstrap builds the bootstrap with SAM's own build target, for this
// machine's architecture, which the emulator runs natively.
func hostBootstrap(t *testing.T) string {
	t.Helper()
	testenv.NeedsTool(t, "make")
	dir := t.TempDir()
	cmd := exec.Command("make", "-C", repoRoot, "--no-print-directory", "build-UserHashFunction",
		"ARTIFACTS_DIR="+dir, "LAMBDA_ARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build-UserHashFunction: %v\n%s", err, out)
	}
	return filepath.Join(dir, "bootstrap")
}

// rieBaseEnv is the environment every emulated function gets: what Lambda
// sets, dummy credentials, and moto for both AWS services. HOME is empty so
// that no AWS profile of the machine's user leaks in.
func rieBaseEnv(t *testing.T, motoURL string) map[string]string {
	return map[string]string{
		"PATH":                             os.Getenv("PATH"),
		"HOME":                             t.TempDir(),
		"AWS_REGION":                       "us-east-1",
		"AWS_ACCESS_KEY_ID":                "testing",
		"AWS_SECRET_ACCESS_KEY":            "testing",
		"AWS_EC2_METADATA_DISABLED":        "true",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": motoURL,
		"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": motoURL,
		"AWS_LAMBDA_FUNCTION_NAME":                   "UserHashFunction",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE":            "128",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":                "10",
	}
}

// rieMotoSecrets creates the platform secrets in moto and returns the
// *_SECRET_ID variables that name them, as the template sets them: ARNs,
// and ARN#key for a field of a JSON secret.
func rieMotoSecrets(t *testing.T, motoURL string) map[string]string {
	t.Helper()
	sm := secretsmanager.NewFromConfig(awsfake.Config(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(motoURL) })
	create := func(name, value string) string {
		out, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
		if err != nil {
			t.Fatalf("CreateSecret %s: %v", name, err)
		}
		return aws.ToString(out.ARN)
	}
	android, _ := json.Marshal(map[string]string{"android": rieSecrets["android"], "other": "not-this-one"})
	return map[string]string{
		"IOS_SECRET_ID":     create("intercom/ios", rieSecrets["ios"]),
		"ANDROID_SECRET_ID": create("intercom/mobile", string(android)) + "#android",
		"WEB_SECRET_ID":     create("intercom/web", rieSecrets["web"]),
	}
}

// rieMotoPool creates a user pool in moto with a public app client that
// allows USER_PASSWORD_AUTH, as template.yaml creates it in password mode,
// and the user of events/password-signin.json, whose Intercom user_id is
// the custom attribute intercom_id. It returns the client ID.
func rieMotoPool(t *testing.T, motoURL string) string {
	t.Helper()
	ctx := context.Background()
	idp := cip.NewFromConfig(awsfake.Config(), func(o *cip.Options) { o.BaseEndpoint = aws.String(motoURL) })
	// CreateUserPool by hand: the SDK leaves out a policy's false
	// Require* fields, and moto reads them as true, which the demo
	// password of the event does not meet.
	var pool struct{ UserPool struct{ Id *string } }
	motoCall(t, motoURL, "AWSCognitoIdentityProviderService.CreateUserPool", map[string]any{
		"PoolName": "rie-users",
		"Schema":   []map[string]any{{"Name": "intercom_id", "AttributeDataType": "String", "Mutable": true}},
		"Policies": map[string]any{"PasswordPolicy": map[string]any{
			"MinimumLength": 8, "RequireUppercase": false, "RequireLowercase": false, "RequireNumbers": false, "RequireSymbols": false,
		}},
	}, &pool)
	client, err := idp.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId:        pool.UserPool.Id,
		ClientName:        aws.String("app"),
		ExplicitAuthFlows: []ciptypes.ExplicitAuthFlowsType{ciptypes.ExplicitAuthFlowsTypeAllowUserPasswordAuth, ciptypes.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
		ReadAttributes:    []string{"email", "email_verified", "custom:intercom_id"},
	})
	if err != nil {
		t.Fatalf("CreateUserPoolClient: %v", err)
	}
	if _, err := idp.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: pool.UserPool.Id, Username: aws.String(rieUsername),
		UserAttributes: []ciptypes.AttributeType{
			{Name: aws.String("email"), Value: aws.String(rieUsername)},
			{Name: aws.String("email_verified"), Value: aws.String("true")},
			{Name: aws.String("custom:intercom_id"), Value: aws.String("u-alice-1001")},
		},
		TemporaryPassword: aws.String(riePassword), MessageAction: ciptypes.MessageActionTypeSuppress,
	}); err != nil {
		t.Fatalf("AdminCreateUser: %v", err)
	}
	if _, err := idp.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: pool.UserPool.Id, Username: aws.String(rieUsername), Password: aws.String(riePassword), Permanent: true,
	}); err != nil {
		t.Fatalf("AdminSetUserPassword: %v", err)
	}
	return aws.ToString(client.UserPoolClient.ClientId)
}

// motoCall makes one awsJson1.1 call to moto and decodes its answer.
func motoCall(t *testing.T, motoURL, target string, in, out any) {
	t.Helper()
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, motoURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20261125/us-east-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", target, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v", target, err)
	}
}

// emulated is one function running under the emulator.
type emulated struct{ *rie.Function }

// startEmulator runs the bootstrap under the RIE with exactly env, and
// stops it when the test ends.
func startEmulator(t *testing.T, rieBin, bootstrap string, env map[string]string) *emulated {
	t.Helper()
	var list []string
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	f, err := rie.Start(rieBin, bootstrap, list)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return &emulated{f}
}

// invoke sends one event through the Invoke API and decodes the function's
// API Gateway response.
func (f *emulated) invoke(t *testing.T, event []byte) events.APIGatewayV2HTTPResponse {
	t.Helper()
	status, body, err := f.Invoke(event)
	if err != nil || status != http.StatusOK {
		t.Fatalf("the emulator answered %d %s (%v); its output:\n%s", status, body, err, f.Output())
	}
	var out events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(body, &out); err != nil || out.StatusCode == 0 {
		t.Fatalf("the function's answer %s is not an API Gateway response (%v); its output:\n%s", body, err, f.Output())
	}
	return out
}

// checkLogClean fails if anything the function must never log shows up in
// what the runtime printed: secrets, identifiers, passwords, hashes.
func (f *emulated) checkLogClean(t *testing.T) {
	t.Helper()
	out := f.Output()
	never := []string{"u-123", "a@example.com", "b@example.com", "victim@example.com", "Alice Example", "u-alice-1001", rieUsername, riePassword}
	for _, s := range rieSecrets {
		never = append(never, s, independentHash(s, "u-123"), independentHash(s, "u-alice-1001"), independentHash(s, "b@example.com"))
	}
	for _, s := range never {
		if strings.Contains(out, s) {
			t.Errorf("the function's output contains %q, which must never be logged", s)
		}
	}
}

func checkRIEProblem(t *testing.T, resp events.APIGatewayV2HTTPResponse, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || resp.Headers["Content-Type"] != "application/problem+json" {
		t.Fatalf("got %d %q %s, want %d application/problem+json", resp.StatusCode, resp.Headers["Content-Type"], resp.Body, status)
	}
	var p problem
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatalf("problem body %s: %v", resp.Body, err)
	}
	if p.Code != code || p.Status != status || p.Type == "" || p.Title == "" {
		t.Errorf("problem = %+v, want code %s status %d with type and title", p, code, status)
	}
	if status == http.StatusMethodNotAllowed && !slices.Contains(strings.Split(resp.Headers["Allow"], ", "), "POST") {
		t.Errorf("Allow = %q, want POST", resp.Headers["Allow"])
	}
}

// TestLambdaBootstrapRefusesToServeLocally checks that the Lambda build,
// which leaves the local server out, says so in one line when it is
// started outside Lambda rather than failing obscurely.
func TestLambdaBootstrapRefusesToServeLocally(t *testing.T) {
	cmd := exec.Command(hostBootstrap(t))
	cmd.Env = []string{"AUTH_MODE=password", "IOS_SECRET=local-only-secret", "LISTEN_ADDR=127.0.0.1:0"}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the Lambda bootstrap served outside Lambda; output:\n%s", out)
	}
	msg := strings.TrimSpace(string(out))
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "built for AWS Lambda only") || !strings.Contains(msg, "make run") {
		t.Errorf("output = %q, want one line saying the bootstrap is for Lambda and to use make run", msg)
	}
	if strings.Contains(msg, "local-only-secret") {
		t.Errorf("output %q contains the secret", msg)
	}
}

// TestEdgeInLambdaRuntime runs the bootstrap as the template deploys it
// behind a CloudFront edge (EdgeWebAclArn): EDGE_ORIGIN_SECRET_ID names a
// generated secret in moto, and only a request carrying it in
// X-Origin-Verify, as CloudFront adds it, is answered.
func TestEdgeInLambdaRuntime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("the Lambda Runtime Interface Emulator runs on Linux only, not %s", runtime.GOOS)
	}
	rieBin := lambdaEmulator(t)
	bootstrap := hostBootstrap(t)
	motoURL := awsfake.StartMoto(t)
	env := rieBaseEnv(t, motoURL)
	for k, v := range rieMotoSecrets(t, motoURL) {
		env[k] = v
	}
	const originSecret = "Rt7uVw2xYz4aBc6dEf8gHj0kLm1nPq3s"
	sm := secretsmanager.NewFromConfig(awsfake.Config(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(motoURL) })
	out, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String("EdgeOriginSecret-test"), SecretString: aws.String(originSecret)})
	if err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	env["AUTH_MODE"] = "jwt"
	env["EDGE_ORIGIN_SECRET_ID"] = aws.ToString(out.ARN)
	f := startEmulator(t, rieBin, bootstrap, env)

	for _, tt := range []struct {
		name   string
		header string // X-Origin-Verify; "" for none
		status int
		code   string
	}{
		{"went around CloudFront", "", 403, "forbidden_origin"},
		{"a wrong secret", originSecret[:len(originSecret)-1] + "X", 403, "forbidden_origin"},
		{"through CloudFront", originSecret, 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev := eventstest.Load(t, "ios.json")
			ev.Headers = map[string]string{"content-type": "application/json", "cloudfront-viewer-address": "203.0.113.9:443"}
			if tt.header != "" {
				ev.Headers["x-origin-verify"] = tt.header
			}
			raw, _ := json.Marshal(ev)
			resp := f.invoke(t, raw)
			if tt.code != "" {
				checkRIEProblem(t, resp, tt.status, tt.code)
				return
			}
			if resp.StatusCode != 200 || !strings.Contains(resp.Body, independentHash(rieSecrets["ios"], "u-123")) {
				t.Fatalf("got %d %s, want 200 with the hash of u-123", resp.StatusCode, resp.Body)
			}
		})
	}
	if out := f.Output(); strings.Contains(out, originSecret) || strings.Contains(out, originSecret[:len(originSecret)-1]) {
		t.Errorf("the function's output holds the origin secret:\n%s", out)
	}
	f.checkLogClean(t)
}
