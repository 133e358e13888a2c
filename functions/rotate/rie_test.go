// The built rotation bootstrap inside the real Lambda runtime, with no
// Docker: the AWS Lambda Runtime Interface Emulator runs what
// `make build-RotateSecretFunction` writes (built for this machine), and
// the test plays Secrets Manager: it starts a rotation in moto_server and
// invokes the function through the Invoke API with Secrets Manager's event
// for each step, {"Step", "SecretId", "ClientRequestToken",
// "RotationToken"}. Intercom is the fake.

package main_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/internal/intercomfake"
	"github.com/intercom-identity/userhash/internal/rie"
	"github.com/intercom-identity/userhash/internal/testenv"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/rotation"
	"github.com/intercom-identity/userhash/shared/secrets"
)

const (
	accessToken   = "dG9rOnJpZS10ZXN0LWludGVyY29tLWFjY2Vzcy10b2tlbg=="
	rotationToken = "6a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	dashboard     = "rie-dashboard-android-secret"
)

func TestRotationInLambdaRuntime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("the Lambda Runtime Interface Emulator runs on Linux only, not %s", runtime.GOOS)
	}
	root := repoRoot(t)
	rieBin := lambdaEmulator(t, root)
	bootstrap := hostBootstrap(t, root)
	motoURL := awsfake.StartMoto(t)
	sm := secretsmanager.NewFromConfig(awsfake.Config(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(motoURL) })
	ctx := context.Background()
	create := func(name, value string) string {
		out, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
		if err != nil {
			t.Fatalf("CreateSecret %s: %v", name, err)
		}
		return aws.ToString(out.ARN)
	}
	androidARN := create("intercom/android", dashboard)
	tokenJSON, _ := json.Marshal(map[string]string{"intercom": accessToken})
	tokenARN := create("intercom/api", string(tokenJSON))
	ic := intercomfake.New(accessToken)
	icURL := ic.Start(t)
	ic.AddSecret("Production Android", dashboard, platform.Android)

	f, err := rie.Start(rieBin, bootstrap, []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + motoURL,
		"AWS_LAMBDA_FUNCTION_NAME=RotateSecretFunction",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=30",
		"ANDROID_SECRET_ID=" + androidARN,
		"INTERCOM_TOKEN_SECRET_ID=" + tokenARN + "#intercom",
		"INTERCOM_API_URL=" + icURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)

	invoke := func(step, token string) (int, []byte) {
		t.Helper()
		// The event exactly as Secrets Manager sends it.
		event, _ := json.Marshal(map[string]string{
			"Step": step, "SecretId": androidARN, "ClientRequestToken": token, "RotationToken": rotationToken,
		})
		status, body, err := f.Invoke(event)
		if err != nil {
			t.Fatalf("%s: %v; output:\n%s", step, err, f.Output())
		}
		return status, body
	}

	t.Run("two full rotations", func(t *testing.T) {
		var made []string
		for i := 0; i < 2; i++ {
			token, err := awsfake.StartRotation(ctx, sm, androidARN)
			if err != nil {
				t.Fatal(err)
			}
			for _, step := range rotation.Steps() {
				status, body := invoke(step, token)
				if status != http.StatusOK || string(body) != "null" {
					t.Fatalf("%s answered %d %s, want 200 null; output:\n%s", step, status, body, f.Output())
				}
			}
			d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(androidARN)})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.VersionIdsToStages[token]; !slices.Equal(got, []string{"AWSCURRENT"}) {
				t.Errorf("rotation %d: the new version has labels %v, want [AWSCURRENT]", i+1, got)
			}
			out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(androidARN), VersionStage: aws.String("AWSCURRENT")})
			if err != nil {
				t.Fatal(err)
			}
			v, ok, err := secrets.ParseRotated(aws.ToString(out.SecretString))
			if !ok || err != nil {
				t.Fatalf("AWSCURRENT is not a rotated value: %v", err)
			}
			made = append(made, v.IntercomSecretID)
		}
		var live []string
		for _, s := range ic.Live(platform.Android) {
			live = append(live, s.ID)
		}
		if len(live) != 3 || !slices.Contains(live, made[0]) || !slices.Contains(live, made[1]) {
			t.Errorf("live Android secrets = %v, want the dashboard's and %v", live, made)
		}
	})

	t.Run("a failed step is a Lambda error naming the step, platform and status", func(t *testing.T) {
		token, err := awsfake.StartRotation(ctx, sm, androidARN)
		if err != nil {
			t.Fatal(err)
		}
		ic.Inject(intercomfake.Create, intercomfake.Status(http.StatusUnauthorized))
		status, body := invoke(rotation.StepCreate, token)
		var lambdaErr struct{ ErrorMessage, ErrorType string }
		if err := json.Unmarshal(body, &lambdaErr); err != nil || status != http.StatusOK {
			t.Fatalf("answered %d %s, want the runtime's error document", status, body)
		}
		if !strings.Contains(lambdaErr.ErrorMessage, "createSecret for the android secret: Intercom POST /secure_mode_secrets: HTTP 401 unauthorized") {
			t.Errorf("errorMessage = %q", lambdaErr.ErrorMessage)
		}
		// Secrets Manager retries; the same token completes.
		for _, step := range rotation.Steps() {
			if status, body := invoke(step, token); status != http.StatusOK || string(body) != "null" {
				t.Fatalf("retry %s answered %d %s", step, status, body)
			}
		}
	})

	out := f.Output()
	for _, s := range ic.All() {
		if strings.Contains(out, s.Material) {
			t.Errorf("the function's output shows the material of Intercom secret %s", s.ID)
		}
	}
	for _, s := range []string{accessToken, rotationToken, dashboard} {
		if strings.Contains(out, s) {
			t.Errorf("the function's output shows a token or a secret (%.6s...)", s)
		}
	}
	if !strings.Contains(out, `"msg":"rotation step done"`) || !strings.Contains(out, `"msg":"rotation step failed"`) {
		t.Errorf("the steps are not logged as JSON lines; output:\n%s", out)
	}
}

// TestBootstrapRefusesToRunOutsideLambda: started by hand, the bootstrap
// says in one line how to rotate instead.
func TestBootstrapRefusesToRunOutsideLambda(t *testing.T) {
	cmd := exec.Command(hostBootstrap(t, repoRoot(t)))
	cmd.Env = []string{"IOS_SECRET_ID=arn:aws:secretsmanager:us-east-1:123456789012:secret:ios-AbCdEf",
		"INTERCOM_TOKEN_SECRET_ID=arn:aws:secretsmanager:us-east-1:123456789012:secret:token-AbCdEf"}
	out, err := cmd.CombinedOutput()
	msg := strings.TrimSpace(string(out))
	if err == nil || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "aws secretsmanager rotate-secret") {
		t.Errorf("outside Lambda: %v, output %q; want a one-line refusal that says how to rotate", err, msg)
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..")
}

// lambdaEmulator returns the RIE binary that `make rie` builds from the
// Go module proxy into .tools/bin.
func lambdaEmulator(t *testing.T, root string) string {
	t.Helper()
	testenv.NeedsTool(t, "make")
	if out, err := exec.Command("make", "-C", root, "--no-print-directory", "rie").CombinedOutput(); err != nil {
		t.Fatalf("make rie: %v\n%s", err, out)
	}
	return filepath.Join(root, ".tools", "bin", "aws-lambda-rie")
}

// hostBootstrap builds the bootstrap with SAM's own build target, for this
// machine's architecture.
func hostBootstrap(t *testing.T, root string) string {
	t.Helper()
	testenv.NeedsTool(t, "make")
	dir := t.TempDir()
	cmd := exec.Command("make", "-C", root, "--no-print-directory", "build-RotateSecretFunction",
		"ARTIFACTS_DIR="+dir, "LAMBDA_ARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build-RotateSecretFunction: %v\n%s", err, out)
	}
	return filepath.Join(dir, "bootstrap")
}
