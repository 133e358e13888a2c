// The function as a Platforms deployment configures it: for each subset of
// platforms, the environment the template gives the function (with the
// secrets it creates stood in by moto's) runs the built bootstrap inside
// the real Lambda runtime (the Runtime Interface Emulator). A listed
// platform gets its hash; any other is answered 400 unsupported_platform,
// as on the local server, and its secret is never fetched, so nothing is
// logged as an error and SecretFetchErrors stays 0.

package deploy_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/internal/eventstest"
	"github.com/intercom-identity/userhash/internal/rie"
	"github.com/intercom-identity/userhash/internal/testenv"
	"github.com/intercom-identity/userhash/shared/metrics"
)

func TestPlatformsInLambdaRuntime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("the Lambda Runtime Interface Emulator runs on Linux only, not %s", runtime.GOOS)
	}
	testenv.NeedsTool(t, "make")
	tpl := loadTemplate(t)
	rieBin, bootstrap := emulatorAndBootstrap(t)
	motoURL := awsfake.StartMoto(t)

	// The secrets the stack would create, in moto; GetSecretValue calls
	// are counted on their way there.
	sm := secretsmanager.NewFromConfig(awsfake.Config(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(motoURL) })
	arns := map[string]string{} // "<IosSecret>" -> moto ARN
	for _, p := range platformNames {
		out, err := sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
			Name: aws.String("stack/" + p.resource), SecretString: aws.String("secret-of-" + p.param),
		})
		if err != nil {
			t.Fatalf("CreateSecret: %v", err)
		}
		arns["<"+p.resource+">"] = aws.ToString(out.ARN)
	}
	var mu sync.Mutex
	fetched := map[string]int{} // secret ARN -> GetSecretValue calls, one in a BatchGetSecretValue included
	proxy := awsfake.StartProxy(t, motoURL, func(op string, body []byte) *awsfake.Error {
		var in struct {
			SecretId     string
			SecretIdList []string
		}
		_ = json.Unmarshal(body, &in)
		mu.Lock()
		defer mu.Unlock()
		switch op {
		case "secretsmanager.GetSecretValue":
			fetched[in.SecretId]++
		case "secretsmanager.BatchGetSecretValue":
			for _, id := range in.SecretIdList {
				fetched[id]++
			}
		}
		return nil
	})

	eventOf := map[string]string{"ios": "ios.json", "android": "android.json", "web": "web.json"}
	for _, seq := range orderedSubsets() {
		if !slices.IsSorted(seq) {
			continue // one order per subset: the order is the template's concern, tested above
		}
		var served []string
		for _, i := range seq {
			served = append(served, platformNames[i].param)
		}
		platforms := strings.Join(served, ",")
		t.Run(platforms, func(t *testing.T) {
			d, err := deploy(t, tpl, map[string]string{"Platforms": platforms})
			if err != nil {
				t.Fatal(err)
			}
			env := map[string]string{
				"PATH": os.Getenv("PATH"), "HOME": t.TempDir(),
				"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
				"AWS_EC2_METADATA_DISABLED":        "true",
				"AWS_ENDPOINT_URL_SECRETS_MANAGER": proxy,
				"AWS_LAMBDA_FUNCTION_NAME":         "UserHashFunction",
				"AWS_LAMBDA_FUNCTION_MEMORY_SIZE":  "128",
				"AWS_LAMBDA_FUNCTION_TIMEOUT":      "10",
			}
			for k, v := range at(d.resource("UserHashFunction"), "Environment", "Variables").(map[string]any) {
				s := fmt.Sprint(v)
				if arn, ok := arns[s]; ok {
					s = arn
				}
				env[k] = s
			}
			mu.Lock()
			clear(fetched)
			mu.Unlock()

			var list []string
			for k, v := range env {
				list = append(list, k+"="+v)
			}
			f, err := rie.Start(rieBin, bootstrap, list)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Stop()

			for _, p := range platformNames {
				want := eventstest.Outcomes[eventOf[p.param]]
				status, body, err := f.Invoke(eventstest.Raw(t, eventOf[p.param]))
				if err != nil || status != http.StatusOK {
					t.Fatalf("%s: the emulator answered %d %s (%v); output:\n%s", p.param, status, body, err, f.Output())
				}
				var resp events.APIGatewayV2HTTPResponse
				if err := json.Unmarshal(body, &resp); err != nil {
					t.Fatalf("%s: %v", p.param, err)
				}
				var got struct{ Platform, Code, Detail string }
				_ = json.Unmarshal([]byte(resp.Body), &got)
				if slices.Contains(served, p.param) {
					if resp.StatusCode != 200 || got.Platform != want.Platform {
						t.Errorf("%s (served): %d %s, want 200 signed for %s", p.param, resp.StatusCode, resp.Body, want.Platform)
					}
					continue
				}
				if resp.StatusCode != 400 || got.Code != "unsupported_platform" {
					t.Errorf("%s (not served): %d %s, want 400 unsupported_platform", p.param, resp.StatusCode, resp.Body)
				}
				if wantDetail := "use one of: " + strings.Join(served, ", "); !strings.HasSuffix(got.Detail, wantDetail) {
					t.Errorf("%s (not served): detail %q, want it to end %q", p.param, got.Detail, wantDetail)
				}
				if _, ok := resp.Headers["Retry-After"]; ok {
					t.Errorf("%s (not served): Retry-After set; a client would retry an answer that never changes", p.param)
				}
			}

			mu.Lock()
			defer mu.Unlock()
			for _, p := range platformNames {
				arn := arns["<"+p.resource+">"]
				if n := fetched[arn]; (n > 0) != slices.Contains(served, p.param) {
					t.Errorf("the %s secret was fetched %d times; want only the secrets of %s", p.param, n, platforms)
				}
			}
			checkQuietLog(t, f.Output())
		})
	}
}

// checkQuietLog fails on an ERROR line in the function's log, or an EMF
// line that counts a failed secret fetch: what would set off
// SecretFetchErrorsAlarm in AWS.
func checkQuietLog(t *testing.T, out string) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue // the emulator's own lines
		}
		if line["level"] == "ERROR" {
			t.Errorf("the function logged an error: %s", sc.Text())
		}
		if n, ok := line[metrics.MetricSecretFetchErrors].(float64); ok && n > 0 {
			t.Errorf("the function counted %v %s: %s", n, metrics.MetricSecretFetchErrors, sc.Text())
		}
	}
}

// emulatorAndBootstrap returns the Lambda Runtime Interface Emulator that
// `make rie` builds from the Go module proxy, and the bootstrap built by
// SAM's own target for this machine's architecture, which it runs natively.
func emulatorAndBootstrap(t *testing.T) (rieBin, bootstrap string) {
	t.Helper()
	if out, err := exec.Command("make", "-C", "..", "--no-print-directory", "rie").CombinedOutput(); err != nil {
		t.Fatalf("make rie: %v\n%s", err, out)
	}
	rieBin, _ = filepath.Abs(filepath.Join("..", ".tools", "bin", "aws-lambda-rie"))
	dir := t.TempDir()
	cmd := exec.Command("make", "-C", "..", "--no-print-directory", "build-UserHashFunction",
		"ARTIFACTS_DIR="+dir, "LAMBDA_ARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build-UserHashFunction: %v\n%s", err, out)
	}
	return rieBin, filepath.Join(dir, "bootstrap")
}
