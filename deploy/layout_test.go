// The house's rule, held by a test rather than a habit: shared/ holds only
// what ships and never imports the test support in internal/, and the
// Lambda build links only what runs in Lambda.

package deploy_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/intercom-identity/userhash"

// goList runs `go list` with args and returns its output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}

func TestSharedNeverImportsTestSupport(t *testing.T) {
	// Every product package's dependencies, tests left out: what ships,
	// and the operator's commands, which run against real stacks.
	for _, line := range goList(t, "-deps", "-f", "{{.ImportPath}}", "./shared/...", "./functions/...", "./cmd/...") {
		if strings.HasPrefix(line, module+"/internal/") {
			t.Errorf("product code links the test support package %s", line)
		}
		if line == "testing" {
			t.Errorf("product code links the standard testing package")
		}
	}
}

func TestLambdaBuildLinksOnlyWhatRunsInLambda(t *testing.T) {
	// The local server's bearer-token verification (go-oidc, go-jose) and
	// HTTP server never run in Lambda, where the gateway verifies tokens.
	// Nor does the SDK's LoadDefaultConfig, with the STS, SSO, sign-in and
	// IMDS clients of its credential chain: in Lambda shared/awsenv builds
	// the configuration from the environment, and their package
	// initialisation would be paid on every cold start for nothing.
	forbidden := []string{
		"github.com/coreos/go-oidc",
		"github.com/go-jose/",
		module + "/shared/oidc",
		module + "/shared/localserver",
		"github.com/aws/aws-sdk-go-v2/config",
		"github.com/aws/aws-sdk-go-v2/service/sts",
		"github.com/aws/aws-sdk-go-v2/service/sso",
		"github.com/aws/aws-sdk-go-v2/service/signin",
		"github.com/aws/aws-sdk-go-v2/feature/ec2/imds",
	}
	for _, fn := range []string{"./functions/userhash", "./functions/rotate"} {
		for _, dep := range goList(t, "-deps", "-tags", "lambda.norpc", "-f", "{{.ImportPath}}", fn) {
			for _, f := range forbidden {
				if strings.HasPrefix(dep, f) {
					t.Errorf("the Lambda build of %s links %s", fn, dep)
				}
			}
		}
	}
}
