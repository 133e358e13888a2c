// samconfig.toml: a development and a production environment that SAM CLI
// can deploy without questions, whose parameter overrides the template
// accepts.

package deploy_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// loadSamconfig reads samconfig.toml as SAM CLI does: as TOML 1.0, which
// Go's standard library has no reader for.
func loadSamconfig(t *testing.T) map[string]any {
	t.Helper()
	var cfg map[string]any
	if _, err := toml.DecodeFile("../samconfig.toml", &cfg); err != nil {
		t.Fatalf("samconfig.toml is not valid TOML: %v", err)
	}
	return cfg
}

// webviewOrigins are the origins of Cordova, Capacitor and Ionic webviews.
var webviewOrigins = []string{"ionic://localhost", "capacitor://localhost", "https://localhost", "http://localhost"}

var override = regexp.MustCompile(`\s*(\w+)=(?:"([^"]*)"|(\S+))`)

// parseOverrides reads SAM CLI's parameter_overrides: Key="Value" pairs.
func parseOverrides(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	rest := s
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
		m := override.FindStringSubmatchIndex(rest)
		if m == nil || m[0] != 0 {
			t.Fatalf("parameter_overrides: cannot read %q", rest)
		}
		v := rest[m[4]:m[5]]
		if m[4] < 0 {
			v = rest[m[6]:m[7]]
		}
		out[rest[m[2]:m[3]]] = v
		rest = rest[m[1]:]
	}
	return out
}

func TestSamconfig(t *testing.T) {
	cfg := loadSamconfig(t)
	tpl := loadTemplate(t)
	if v := fmt.Sprint(cfg["version"]); v != "0.1" {
		t.Errorf("version = %s, want 0.1", v)
	}
	stacks := map[string]string{}
	for _, env := range []string{"default", "prod"} {
		t.Run(env, func(t *testing.T) {
			e, ok := cfg[env].(map[string]any)
			if !ok {
				t.Fatalf("no [%s] environment", env)
			}
			stack, _ := at(e, "global", "parameters", "stack_name").(string)
			if stack == "" {
				t.Fatalf("[%s] has no stack_name", env)
			}
			stacks[env] = stack
			// Every sam command, and the guide's out() helper, use one
			// region, named here rather than taken from the CLI's default.
			if r, _ := at(e, "global", "parameters", "region").(string); !regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`).MatchString(r) {
				t.Errorf("[%s] global region = %q, want a region name", env, r)
			}
			tests := []struct {
				name string
				path []string
				want any
			}{
				// SAM's build cache hashes CodeUri, the whole repository:
				// it saves nothing Go's build cache does not.
				{"no SAM build cache", []string{"build", "parameters", "cached"}, nil},
				{"parallel builds", []string{"build", "parameters", "parallel"}, true},
				{"managed artifact bucket", []string{"deploy", "parameters", "resolve_s3"}, true},
				{"the function's role needs CAPABILITY_IAM", []string{"deploy", "parameters", "capabilities"}, "CAPABILITY_IAM"},
				{"changes are shown before they are made", []string{"deploy", "parameters", "confirm_changeset"}, true},
				// make deploy and CI deploy again without failing when
				// nothing changed.
				{"no change is no failure", []string{"deploy", "parameters", "fail_on_empty_changeset"}, false},
				{"sam validate lints", []string{"validate", "parameters", "lint"}, true},
			}
			for _, tt := range tests {
				if got := at(e, tt.path...); got != tt.want {
					t.Errorf("%s: %s = %v, want %v", tt.name, strings.Join(tt.path, "."), got, tt.want)
				}
			}
			for _, cmd := range []string{"deploy", "local_invoke"} {
				s, ok := at(e, cmd, "parameters", "parameter_overrides").(string)
				if !ok {
					continue
				}
				overrides := parseOverrides(t, s)
				if _, err := deploy(t, tpl, overrides); err != nil {
					t.Errorf("[%s.%s] parameter_overrides: the template refuses them: %v", env, cmd, err)
				}
				if cmd != "deploy" {
					continue
				}
				// A Cordova, Capacitor or Ionic app runs in a webview with
				// these origins in production as in development; without
				// them its every call fails CORS, in production only.
				origins := strings.Split(overrides["AllowedOrigins"], ",")
				for _, o := range webviewOrigins {
					if !slices.Contains(origins, o) {
						t.Errorf("[%s] AllowedOrigins = %q, want the webview origin %s", env, overrides["AllowedOrigins"], o)
					}
				}
			}
		})
	}
	if stacks["default"] == stacks["prod"] {
		t.Errorf("default and prod deploy the same stack %q", stacks["prod"])
	}
}
