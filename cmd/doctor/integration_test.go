// The doctor end to end, as an operator runs it: the built binary, with
// only the environment it is given, reading secrets from moto_server,
// calling the built userhash local server, and reading a stack from moto's
// CloudFormation. These need moto_server and a build; -short skips them.

package main_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/golang-jwt/jwt/v5"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/internal/localapi"
	"github.com/intercom-identity/userhash/internal/oidctest"
	"github.com/intercom-identity/userhash/internal/testenv"
)

// The secrets in moto. Each differs, so a hash made with one is never taken
// for another's.
const (
	iosSecret     = "moto-ios-secret-4f2a"
	androidSecret = "moto-android-secret-9c1e"
	webSecret     = "moto-web-secret-77d0"
)

// bins are the binaries built once per test run, in a folder TestMain
// removes.
var bins struct {
	once             sync.Once
	dir              string
	doctor, userhash string
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if bins.dir != "" {
		os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

// binaries builds the doctor and the userhash server, once.
func binaries(t *testing.T) (doctor, userhash string) {
	t.Helper()
	testenv.NotShort(t, "builds the doctor and the userhash server")
	bins.once.Do(func() {
		dir, err := os.MkdirTemp("", "doctor-test")
		if err != nil {
			t.Fatal(err)
		}
		bins.dir = dir
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "doctor"), ".").CombinedOutput()
		if err != nil {
			t.Fatalf("go build ./cmd/doctor: %v\n%s", err, out)
		}
		bins.userhash = localapi.Build(t, dir)
		bins.doctor = filepath.Join(dir, "doctor")
	})
	if bins.doctor == "" || bins.userhash == "" {
		t.Fatal("the binaries failed to build in an earlier test")
	}
	return bins.doctor, bins.userhash
}

// result is one run of the doctor.
type result struct {
	code           int
	stdout, stderr string
}

// report is the -json output.
type report struct {
	OK     bool `json:"ok"`
	Checks []struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		Detail string `json:"detail"`
		Fix    string `json:"fix"`
	} `json:"checks"`
	Cause string `json:"cause"`
}

// check returns the named check's detail and whether it exists and holds.
func (r report) check(name string) (detail string, exists, ok bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c.Detail, true, c.OK
		}
	}
	return "", false, false
}

func (r report) failed() []string {
	var out []string
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c.Name)
		}
	}
	return out
}

// runDoctor runs the doctor binary with env (and no other environment but
// PATH, and an empty HOME so that no ~/.aws of the machine is read).
func runDoctor(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	doctor, _ := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, doctor, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_EC2_METADATA_DISABLED=true"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run the doctor: %v", err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// runJSON runs the doctor with -json, and once more without, and checks
// that neither output holds a sensitive value; it returns the report.
func runJSON(t *testing.T, env map[string]string, stdin string, sensitive []string, args ...string) (result, report) {
	t.Helper()
	res := runDoctor(t, env, stdin, append(args, "-json")...)
	var r report
	dec := json.NewDecoder(strings.NewReader(res.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("-json output %q (stderr %q): %v", res.stdout, res.stderr, err)
	}
	text := runDoctor(t, env, stdin, args...)
	if text.code != res.code {
		t.Errorf("exit status %d with -json, %d without", res.code, text.code)
	}
	for _, out := range []string{res.stdout, res.stderr, text.stdout, text.stderr} {
		assertClean(t, out, sensitive...)
	}
	return res, r
}

// alwaysSensitive is what no output may ever hold, whatever the run.
var alwaysSensitive = []string{iosSecret, androidSecret, webSecret, "testing-secret-key", "demo-password"}

func assertClean(t *testing.T, out string, sensitive ...string) {
	t.Helper()
	for _, s := range append(sensitive, alwaysSensitive...) {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("the output holds a sensitive value (%d characters starting %.4q):\n%s", len(s), s, out)
		}
	}
	// Any JWT, whole: its header is the same base64 for every HS256 token.
	if strings.Contains(out, "eyJhbGciOiJIUzI1Ni") || strings.Contains(out, "eyJhbGciOiJSUzI1Ni") {
		t.Errorf("the output holds a JWT:\n%s", out)
	}
}

func hmacHex(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])[:8]
}

func hs256(t *testing.T, secret string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// motoSecrets starts moto with the three platform secrets (iOS as a plain
// string, Android and web as fields of one JSON secret) and returns the
// AWS environment that reaches it, and the secrets' environment variables.
func motoSecrets(t *testing.T) (motoURL string, awsEnv, secretEnv map[string]string, sm *secretsmanager.Client) {
	t.Helper()
	motoURL = awsfake.StartMoto(t)
	sm = secretsmanager.NewFromConfig(awsfake.Config(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(motoURL) })
	create := func(name, value string) string {
		out, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
		if err != nil {
			t.Fatalf("CreateSecret %s: %v", name, err)
		}
		return aws.ToString(out.ARN)
	}
	create("intercom/ios", iosSecret)
	keys, _ := json.Marshal(map[string]string{"android": androidSecret, "web": webSecret})
	keysARN := create("intercom/keys", string(keys))
	awsEnv = map[string]string{
		"AWS_REGION":                       "us-east-1",
		"AWS_ACCESS_KEY_ID":                "testing",
		"AWS_SECRET_ACCESS_KEY":            "testing-secret-key",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": motoURL,
		"AWS_ENDPOINT_URL_CLOUDFORMATION":  motoURL,
	}
	secretEnv = map[string]string{
		"IOS_SECRET_ID":     "intercom/ios",
		"ANDROID_SECRET_ID": "intercom/keys#android",
		"WEB_SECRET_ID":     keysARN + "#web",
	}
	return motoURL, awsEnv, secretEnv, sm
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

var versionID = regexp.MustCompile(`version [0-9a-f-]{36}`)

// TestCausesAgainstMoto produces every cause on purpose, with the secrets
// read from Secrets Manager as the function reads them, and checks that
// the doctor names it, exits 1 for it (0 for a match), and says nothing
// secret.
func TestCausesAgainstMoto(t *testing.T) {
	_, awsEnv, secretEnv, _ := motoSecrets(t)
	env := merge(awsEnv, secretEnv)
	now := time.Now()
	jwtClaims := func(exp time.Time) jwt.MapClaims {
		return jwt.MapClaims{"user_id": "u-123", "email": "alice@example.com", "iat": now.Unix(), "exp": exp.Unix()}
	}
	tests := []struct {
		name  string
		args  []string
		cause string
		words string // the failed check's detail holds them
	}{
		{"a matching hash over the user_id", []string{"-platform", "iPhone", "-user-id", "u-123", "-email", "alice@example.com", "-hash", hmacHex(iosSecret, "u-123")}, "match", ""},
		{"a matching hash over the email", []string{"-platform", "browser", "-email", "alice@example.com", "-hash", hmacHex(webSecret, "alice@example.com")}, "match", ""},
		{"another platform's secret", []string{"-platform", "android", "-user-id", "u-123", "-hash", hmacHex(iosSecret, "u-123")}, "wrong_platform_secret", "ios secret"},
		{"the email hashed while a user_id is sent", []string{"-platform", "ios", "-user-id", "u-123", "-email", "alice@example.com", "-hash", hmacHex(iosSecret, "alice@example.com")}, "identifier_mismatch", "over the email"},
		{"the user_id hashed while only the email is sent", []string{"-platform", "ios", "-user-id", "u-123", "-email", "alice@example.com", "-sent", "email", "-hash", hmacHex(iosSecret, "u-123")}, "identifier_mismatch", "only the email"},
		{"the email's case changed on the way", []string{"-platform", "web", "-email", "Alice@Example.com", "-hash", hmacHex(webSecret, "alice@example.com")}, "identifier_changed", "lower-cased"},
		{"white space added on the way", []string{"-platform", "android", "-user-id", " u-123", "-hash", hmacHex(androidSecret, "u-123")}, "identifier_changed", "trimmed"},
		{"a secret this configuration does not have", []string{"-platform", "ios", "-user-id", "u-123", "-hash", hmacHex("another-workspace-secret", "u-123")}, "unknown_secret", "none of the configured secrets"},
		{"a valid JWT", []string{"-platform", "ios", "-jwt", hs256(t, iosSecret, jwtClaims(now.Add(time.Hour)))}, "match", ""},
		{"an expired JWT", []string{"-platform", "ios", "-jwt", hs256(t, iosSecret, jwtClaims(now.Add(-time.Hour)))}, "jwt_expired", "expired"},
		{"a JWT signed with another platform's secret", []string{"-platform", "ios", "-jwt", hs256(t, androidSecret, jwtClaims(now.Add(time.Hour)))}, "wrong_platform_secret", "android secret"},
		{"a JWT signed with an unknown secret", []string{"-platform", "ios", "-jwt", hs256(t, "another-workspace-secret", jwtClaims(now.Add(time.Hour)))}, "jwt_bad_signature", "none of the configured secrets"},
		{"a valid hash and an expired JWT", []string{"-platform", "ios", "-user-id", "u-123", "-hash", hmacHex(iosSecret, "u-123"), "-jwt", hs256(t, iosSecret, jwtClaims(now.Add(-time.Minute)))}, "jwt_expired", "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var given []string // the hash or JWT given: never printed whole
			for i, a := range tt.args {
				if a == "-hash" || a == "-jwt" {
					given = append(given, tt.args[i+1])
				}
			}
			res, r := runJSON(t, env, "", given, tt.args...)
			if r.Cause != tt.cause {
				t.Errorf("cause = %q, want %q\n%s", r.Cause, tt.cause, res.stdout)
			}
			wantCode := 1
			if tt.cause == "match" {
				wantCode = 0
			}
			if res.code != wantCode || r.OK != (wantCode == 0) {
				t.Errorf("exit status %d, ok %v; want %d", res.code, r.OK, wantCode)
			}
			for _, p := range []struct{ name, secret string }{{"ios", iosSecret}, {"android", androidSecret}, {"web", webSecret}} {
				detail, exists, ok := r.check("secret." + p.name)
				if !exists || !ok || !strings.Contains(detail, "fingerprint "+fingerprint(p.secret)) || !versionID.MatchString(detail) {
					t.Errorf("secret.%s = %q (ok %v), want it to hold with a version ID and fingerprint %s", p.name, detail, ok, fingerprint(p.secret))
				}
			}
			if tt.words != "" {
				found := false
				for _, c := range r.Checks {
					if !c.OK && strings.Contains(c.Detail, tt.words) && c.Fix != "" {
						found = true
					}
				}
				if !found {
					t.Errorf("no failed check with a fix says %q:\n%s", tt.words, res.stdout)
				}
			}
		})
	}
}

// TestSecretChecksAgainstMoto: a secret that cannot be had, or cannot be
// Intercom's, fails its check with a fix, and a hash that depends on it is
// undetermined rather than blamed on something else.
func TestSecretChecksAgainstMoto(t *testing.T) {
	_, awsEnv, secretEnv, sm := motoSecrets(t)
	for name, value := range map[string]string{"intercom/pasted": iosSecret + "\n", "intercom/json": `{"android":"` + androidSecret + `"}`} {
		if _, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}); err != nil {
			t.Fatal(err)
		}
	}
	hash := hmacHex(iosSecret, "u-123")
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		failed string
		words  string
		cause  string
	}{
		{name: "a secret that does not exist", env: map[string]string{"WEB_SECRET_ID": "intercom/missing"}, failed: "secret.web", words: "not found"},
		{name: "a key the JSON secret lacks", env: map[string]string{"WEB_SECRET_ID": "intercom/keys#webb"}, failed: "secret.web", words: `no field "webb"`},
		{name: "a secret pasted with its newline", env: map[string]string{"IOS_SECRET_ID": "intercom/pasted"}, failed: "secret.ios", words: "newline"},
		{name: "a JSON secret read whole", env: map[string]string{"ANDROID_SECRET_ID": "intercom/json"}, failed: "secret.android", words: "JSON object"},
		{name: "the platform's own secret is missing", env: map[string]string{"IOS_SECRET_ID": "intercom/missing"}, args: []string{"-platform", "ios", "-user-id", "u-123", "-hash", hash}, failed: "secret.ios,hash", words: "not found", cause: "undetermined"},
		{name: "no region", env: map[string]string{"AWS_REGION": ""}, failed: "aws,secret.ios,secret.android,secret.web", words: "region"},
	}
	t.Run("another platform's missing secret with -platform", func(t *testing.T) {
		env := merge(awsEnv, secretEnv, map[string]string{"WEB_SECRET_ID": "intercom/missing"})
		res, r := runJSON(t, env, "", []string{hash}, "-platform", "ios", "-user-id", "u-123", "-hash", hash)
		detail, _, ok := r.check("secret.web")
		if res.code != 0 || r.Cause != "match" || !ok || !strings.Contains(detail, "not needed for -platform ios") {
			t.Errorf("exit status %d, cause %q, secret.web %q (ok %v); want 0, match, and the web secret not needed", res.code, r.Cause, detail, ok)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, r := runJSON(t, merge(awsEnv, secretEnv, tt.env), "", []string{hash}, tt.args...)
			if res.code != 1 || r.OK {
				t.Errorf("exit status %d, ok %v; want 1 and false", res.code, r.OK)
			}
			if got := strings.Join(r.failed(), ","); got != tt.failed {
				t.Errorf("failed checks %s, want %s\n%s", got, tt.failed, res.stdout)
			}
			first := strings.Split(tt.failed, ",")[0]
			if detail, _, _ := r.check(first); !strings.Contains(detail, tt.words) {
				t.Errorf("%s detail %q does not say %q", first, detail, tt.words)
			}
			if r.Cause != tt.cause {
				t.Errorf("cause = %q, want %q", r.Cause, tt.cause)
			}
		})
	}
}

// TestSmokeTestLocalServer calls the built local server, in both
// authentication modes, with the secrets it and the doctor read from moto.
func TestSmokeTestLocalServer(t *testing.T) {
	_, userhash := binaries(t)
	_, awsEnv, secretEnv, _ := motoSecrets(t)
	doctorEnv := merge(awsEnv, secretEnv)
	demoUsers := localapi.DemoEnv()["USERS_FILE"]
	allOK := func(t *testing.T, r report, platforms ...string) {
		t.Helper()
		for _, p := range platforms {
			for _, suffix := range []string{"", ".headers", ".cors", ".user_hash", ".user_jwt"} {
				if _, exists, ok := r.check("api." + p + suffix); !exists || !ok {
					t.Errorf("check api.%s%s: exists %v, ok %v; want it to hold", p, suffix, exists, ok)
				}
			}
		}
	}
	aliceHashes := []string{hmacHex(iosSecret, "u-alice-1001"), hmacHex(androidSecret, "u-alice-1001"), hmacHex(webSecret, "u-alice-1001")}

	t.Run("password mode", func(t *testing.T) {
		s := localapi.Start(t, userhash, merge(awsEnv, secretEnv, map[string]string{
			"AUTH_MODE": "password", "USERS_FILE": demoUsers, "ALLOWED_ORIGINS": "capacitor://localhost",
		}))
		res, r := runJSON(t, doctorEnv, "demo-password\n", aliceHashes,
			"-url", s.URL, "-username", "alice@example.com", "-password-stdin", "-origin", "capacitor://localhost")
		if res.code != 0 || !r.OK {
			t.Fatalf("exit status %d, ok %v; want 0\n%s", res.code, r.OK, res.stdout)
		}
		allOK(t, r, "ios", "android", "web")
		if r.Cause != "" {
			t.Errorf("cause = %q with no hash or JWT given, want none", r.Cause)
		}

		res, r = runJSON(t, doctorEnv, "not-the-password\n", []string{"not-the-password"}, "-url", s.URL, "-username", "alice@example.com", "-password-stdin", "-platform", "ios")
		if detail, _, ok := r.check("api.ios"); res.code != 1 || ok || !strings.Contains(detail, "401") || !strings.Contains(detail, "unauthenticated") {
			t.Errorf("wrong password: exit status %d, api.ios %q (ok %v); want 1 and a 401 unauthenticated", res.code, detail, ok)
		}

		res, r = runJSON(t, doctorEnv, "demo-password\n", aliceHashes, "-url", s.URL, "-username", "alice@example.com", "-password-stdin", "-platform", "ios", "-origin", "https://evil.example")
		if _, _, ok := r.check("api.ios.cors"); res.code != 1 || ok {
			t.Errorf("an origin the server does not allow: exit status %d, cors ok %v; want 1 and a failure", res.code, ok)
		}
		if strings.Contains(s.Log(), "demo-password") {
			t.Error("the server logged the password the doctor sent")
		}
	})

	t.Run("jwt mode", func(t *testing.T) {
		const aud = "doctor-test-app"
		iss := oidctest.New(t)
		s := localapi.Start(t, userhash, merge(awsEnv, secretEnv, map[string]string{
			"AUTH_MODE": "jwt", "JWT_ISSUER": iss.URL, "JWT_AUDIENCE": aud, "ALLOWED_ORIGINS": "capacitor://localhost",
		}))
		claims := iss.Claims(aud, "u-123")
		claims["email"], claims["email_verified"] = "alice@example.com", true
		token := iss.Sign(t, claims)
		res, r := runJSON(t, doctorEnv, token+"\n", []string{token}, "-url", s.URL, "-token-stdin", "-origin", "capacitor://localhost")
		if res.code != 0 || !r.OK {
			t.Fatalf("exit status %d, ok %v; want 0\n%s", res.code, r.OK, res.stdout)
		}
		allOK(t, r, "ios", "android", "web")

		claims["exp"] = time.Now().Add(-time.Minute).Unix()
		expired := iss.Sign(t, claims)
		res, r = runJSON(t, doctorEnv, "", []string{expired}, "-url", s.URL, "-token", expired, "-platform", "web")
		if detail, _, ok := r.check("api.web"); res.code != 1 || ok || !strings.Contains(detail, "401") {
			t.Errorf("expired token: exit status %d, api.web %q (ok %v); want 1 and a 401", res.code, detail, ok)
		}
	})

	t.Run("the server signs with another secret than the doctor reads", func(t *testing.T) {
		s := localapi.Start(t, userhash, map[string]string{
			"AUTH_MODE": "password", "USERS_FILE": demoUsers,
			"IOS_SECRET": "a-secret-the-doctor-does-not-read", "ANDROID_SECRET": androidSecret, "WEB_SECRET": webSecret,
		})
		res, r := runJSON(t, doctorEnv, "demo-password\n", []string{"a-secret-the-doctor-does-not-read"}, "-url", s.URL, "-username", "bob", "-password-stdin")
		if got := strings.Join(r.failed(), ","); res.code != 1 || got != "api.ios.user_hash,api.ios.user_jwt" {
			t.Errorf("exit status %d, failed %s; want 1 and the iOS hash and JWT only\n%s", res.code, got, res.stdout)
		}
	})
}

// stackTemplate is a minimal stack with the service's output names. moto 5
// drops outputs that refer to an AWS::SecretsManager::Secret (it has no
// CloudFormation model for one), so the secrets are created through the
// Secrets Manager API and passed in as parameters, as the real template
// takes existing secrets (IosSecretArn, ...). Each secret output is
// conditional, as with the real template's Platforms parameter.
const stackTemplate = `{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Parameters": {
    "Url": {"Type": "String"},
    "IosSecretArn": {"Type": "String", "Default": ""},
    "AndroidSecretArn": {"Type": "String", "Default": ""},
    "WebSecretArn": {"Type": "String", "Default": ""}
  },
  "Conditions": {
    "HasIos": {"Fn::Not": [{"Fn::Equals": [{"Ref": "IosSecretArn"}, ""]}]},
    "HasAndroid": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AndroidSecretArn"}, ""]}]},
    "HasWeb": {"Fn::Not": [{"Fn::Equals": [{"Ref": "WebSecretArn"}, ""]}]}
  },
  "Resources": {"Placeholder": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
  "Outputs": {
    "UserHashUrl": {"Value": {"Ref": "Url"}},
    "IosSecretId": {"Condition": "HasIos", "Value": {"Ref": "IosSecretArn"}},
    "AndroidSecretId": {"Condition": "HasAndroid", "Value": {"Ref": "AndroidSecretArn"}},
    "WebSecretId": {"Condition": "HasWeb", "Value": {"Ref": "WebSecretArn"}}
  }
}`

// TestStack reads a stack's endpoint and secrets from moto's
// CloudFormation; the stack, not the local environment, says which
// secrets and platforms there are.
func TestStack(t *testing.T) {
	_, userhash := binaries(t)
	motoURL, awsEnv, _, sm := motoSecrets(t)
	arn := func(name string) string {
		out, err := sm.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ARN)
	}
	iosID, androidID := arn("intercom/ios"), arn("intercom/keys")+"#android"
	s := localapi.Start(t, userhash, merge(awsEnv, map[string]string{
		"AUTH_MODE": "password", "USERS_FILE": localapi.DemoEnv()["USERS_FILE"],
		"IOS_SECRET_ID": iosID, "ANDROID_SECRET_ID": androidID,
	}))
	cf := cloudformation.NewFromConfig(awsfake.Config(), func(o *cloudformation.Options) { o.BaseEndpoint = aws.String(motoURL) })
	_, err := cf.CreateStack(context.Background(), &cloudformation.CreateStackInput{
		StackName:    aws.String("intercom-user-hash-test"),
		TemplateBody: aws.String(stackTemplate),
		Parameters: []cftypes.Parameter{
			{ParameterKey: aws.String("Url"), ParameterValue: aws.String(s.URL)},
			{ParameterKey: aws.String("IosSecretArn"), ParameterValue: aws.String(iosID)},
			{ParameterKey: aws.String("AndroidSecretArn"), ParameterValue: aws.String(androidID)},
		},
	})
	if err != nil {
		t.Fatalf("CreateStack: %v", err)
	}
	// The local environment's own secrets must not be used in the stack's
	// name: a literal iOS secret and a web secret the stack does not have.
	local := merge(awsEnv, map[string]string{"IOS_SECRET": "a-local-secret-to-ignore", "WEB_SECRET_ID": "intercom/not-the-stacks"})

	t.Run("smoke test", func(t *testing.T) {
		res, r := runJSON(t, local, "demo-password\n", nil, "-stack", "intercom-user-hash-test", "-username", "carol@example.com", "-password-stdin")
		if res.code != 0 || !r.OK {
			t.Fatalf("exit status %d, ok %v; want 0\n%s", res.code, r.OK, res.stdout)
		}
		if detail, _, _ := r.check("stack"); !strings.Contains(detail, "CREATE_COMPLETE") || !strings.Contains(detail, s.URL) || !strings.Contains(detail, "secrets for ios, android") {
			t.Errorf("stack detail %q, want its status, endpoint and the platforms ios, android", detail)
		}
		if detail, _, _ := r.check("config"); !strings.Contains(detail, "ios, android from Secrets Manager") || strings.Contains(detail, "literal") {
			t.Errorf("config detail %q, want ios and android from Secrets Manager only", detail)
		}
		for _, name := range []string{"secret.ios", "secret.android", "api.ios.user_hash", "api.android.user_hash"} {
			if _, exists, ok := r.check(name); !exists || !ok {
				t.Errorf("check %s: exists %v, ok %v; want it to hold", name, exists, ok)
			}
		}
		for _, name := range []string{"secret.web", "api.web"} {
			if _, exists, _ := r.check(name); exists {
				t.Errorf("check %s exists; the stack has no web secret", name)
			}
		}
	})

	t.Run("a hash checked with the stack's secrets", func(t *testing.T) {
		hash := hmacHex(androidSecret, "u-123")
		res, r := runJSON(t, local, "", []string{hash}, "-stack", "intercom-user-hash-test", "-platform", "ios", "-user-id", "u-123", "-hash", hash)
		if res.code != 1 || r.Cause != "wrong_platform_secret" {
			t.Errorf("exit status %d, cause %q; want 1 and wrong_platform_secret\n%s", res.code, r.Cause, res.stdout)
		}
	})

	t.Run("no such stack", func(t *testing.T) {
		res, r := runJSON(t, local, "", nil, "-stack", "no-such-stack", "-token", "some-bearer-token")
		detail, _, ok := r.check("stack")
		if res.code != 1 || ok || !strings.Contains(detail, "not found in us-east-1") {
			t.Errorf("exit status %d, stack %q (ok %v); want 1 and not found", res.code, detail, ok)
		}
		if len(r.Checks) != 1 {
			t.Errorf("%d checks, want the stack's only: nothing is checked in a missing stack's name", len(r.Checks))
		}
		assertClean(t, res.stdout, "some-bearer-token")

		_, r = runJSON(t, local, "", nil, "-stack", "no-such-stack", "-platform", "ios", "-user-id", "u-123", "-hash", hmacHex(iosSecret, "u-123"))
		if r.Cause != "undetermined" {
			t.Errorf("a hash checked against a missing stack: cause %q, want undetermined", r.Cause)
		}
	})
}

// TestExitStatusUsage: a usage error is 2, with the message on stderr and
// nothing on stdout, from the built binary as a script sees it.
func TestExitStatusUsage(t *testing.T) {
	res := runDoctor(t, nil, "", "-hash", "abc")
	if res.code != 2 || res.stdout != "" || !strings.Contains(res.stderr, "-platform") {
		t.Errorf("exit status %d, stdout %q, stderr %q; want 2, nothing, and a line naming -platform", res.code, res.stdout, res.stderr)
	}
	res = runDoctor(t, nil, "", "-json")
	if res.code != 1 {
		t.Errorf("no configuration: exit status %d, want 1 (a check failed)", res.code)
	}
}
