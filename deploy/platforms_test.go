// The Platforms parameter (docs/deploy.md, "2. Deploy"): for every subset
// of ios, android and web, in every order, only the listed platforms get a
// secret, an environment variable, a GetSecretValue grant and an output,
// whether the stack creates the secret or is given its ARN.

package deploy_test

import (
	"strings"
	"testing"
)

// platformNames are the platforms in the template's order, with the names
// its parameters, resources and variables use.
var platformNames = [3]struct{ param, arnParam, resource string }{
	{"ios", "IosSecretArn", "IosSecret"},
	{"android", "AndroidSecretArn", "AndroidSecret"},
	{"web", "WebSecretArn", "WebSecret"},
}

// orderedSubsets returns every non-empty sequence of distinct platforms:
// "ios", "web,ios", "android,web,ios", ...
func orderedSubsets() [][]int {
	var out [][]int
	var walk func(seq []int)
	walk = func(seq []int) {
		if len(seq) > 0 {
			out = append(out, seq)
		}
		for i := range platformNames {
			used := false
			for _, j := range seq {
				used = used || i == j
			}
			if !used {
				walk(append(append([]int(nil), seq...), i))
			}
		}
	}
	walk(nil)
	return out
}

func TestTemplatePlatforms(t *testing.T) {
	tpl := loadTemplate(t)
	existing := [3]string{sharedARN + "#ios", sharedARN + "#android", webARN}
	subsets := orderedSubsets()
	if len(subsets) != 15 {
		t.Fatalf("%d ordered subsets of three platforms, want 15", len(subsets))
	}
	for _, seq := range subsets {
		var names []string
		for _, i := range seq {
			names = append(names, platformNames[i].param)
		}
		platforms := strings.Join(names, ",")
		for _, withARNs := range []bool{false, true} {
			name := platforms + " with created secrets"
			params := map[string]string{"Platforms": platforms}
			if withARNs {
				// An ARN for a platform not in Platforms is ignored: no
				// variable, no grant.
				name = platforms + " with existing secrets for all three"
				for i, p := range platformNames {
					params[p.arnParam] = existing[i]
				}
			}
			t.Run(name, func(t *testing.T) {
				var want wantDeployment
				for _, i := range seq {
					id, arn := "<"+platformNames[i].resource+">", "<"+platformNames[i].resource+">"
					if withARNs {
						id = existing[i]
						arn, _, _ = strings.Cut(id, "#")
					}
					want.secretIDs[i] = id
					want.iam = append(want.iam, arn)
				}
				d, err := deploy(t, tpl, params)
				if err != nil {
					t.Fatalf("Platforms=%q is refused: %v", platforms, err)
				}
				checkEnvironment(t, d, params, wantDeploymentWithDefaults(want))
				checkSecrets(t, d, want)
				checkIAM(t, d, want)
				checkOutputs(t, d, wantDeploymentWithDefaults(want))
			})
		}
	}
}

// wantDeploymentWithDefaults fills in what the default parameters deploy
// besides the platforms: jwt mode on the stack's own user pool.
func wantDeploymentWithDefaults(w wantDeployment) wantDeployment {
	w.authorization = "JWT"
	w.issuer = cognitoIss
	w.audience = []string{"<UserPoolClient>"}
	w.userPool = true
	return w
}
