// Which environment variables Load reads, found by running it rather than
// kept as a list, so that the template test cannot drift from the code.

package config

import (
	"maps"
	"slices"
)

// Variables returns every environment variable Load reads, sorted. The
// template test holds the SAM template's environment to it.
//
// It is what Load asks its lookup for, not a list kept by hand. Load reads
// some variables only on some paths (password mode, inside Lambda, past a
// check that an earlier variable passed), so it is run over a configuration
// that gets to the end of Load in each way the function runs, and over each
// of those with each variable it asked for set to each of a few telling
// values (and so on, from the configuration that first asked for a name),
// until no run asks for a name not seen before. A variable added to Load is
// in the list with nothing else to change. Three things hold it complete:
// the configurations reach the end of Load in each mode; the probing alone,
// from an empty environment, finds the same list (a test checks it); and
// every name the tests of Load make it ask for must be in the list, so a
// read that only an untried combination of values reaches fails the test
// that reaches it. Another loader in this package gets its list the same
// way: reads(its load, []map[string]string{{}}).
func Variables() []string {
	return reads(func(lookup func(string) (string, bool)) { _, _ = Load(lookup) }, loadConfigurations())
}

// loadConfigurations are valid configurations, one for each way the
// user-hash function runs: each takes Load to its end.
func loadConfigurations() []map[string]string {
	const lambda, arn = "127.0.0.1:9001", "arn:aws:secretsmanager:us-east-1:123456789012:secret:intercom-AbCdEf"
	return []map[string]string{
		// make run: password mode on the local server, demo secrets.
		{"AUTH_MODE": "password", "IOS_SECRET": "x"},
		// jwt mode on the local server, verifying bearer tokens itself.
		{"IOS_SECRET": "x", "JWT_ISSUER": "https://issuer.example", "JWT_AUDIENCE": "app"},
		// jwt mode in Lambda, behind the gateway's authorizer.
		{"AWS_LAMBDA_RUNTIME_API": lambda, "IOS_SECRET_ID": arn},
		// password mode in Lambda, with Cognito and its app client's secret.
		{"AWS_LAMBDA_RUNTIME_API": lambda, "AUTH_MODE": "password", "IOS_SECRET_ID": arn,
			"COGNITO_CLIENT_ID": "client", "COGNITO_CLIENT_SECRET_ID": arn + "#client"},
	}
}

// probeValues are the values each variable is tried with: set but empty,
// and values that mean something to some variable (a mode, a boolean, a
// number, a duration, a URL, a secret ID, a list).
var probeValues = [...]string{
	"", "x", "0", "1", "true", "false", "jwt", "password", "debug",
	"1s", "https://example.com", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf#k", "a=b,c",
}

// reads returns, sorted, every name load asks its lookup for when run over
// each of bases, and, for each name asked, over the configuration that
// first asked for it and over each base, with that name set to each of
// probeValues; until no run asks for a new name. Trying a name in the
// configuration that asked for it reaches the reads nested under it: a
// variable read only when another has a given value.
func reads(load func(lookup func(string) (string, bool)), bases []map[string]string) []string {
	type found struct {
		name string
		in   map[string]string // the configuration that first asked for it
	}
	seen := map[string]bool{}
	var unprobed []found
	run := func(env map[string]string) {
		load(func(name string) (string, bool) {
			if !seen[name] {
				seen[name] = true
				unprobed = append(unprobed, found{name, env})
			}
			v, ok := env[name]
			return v, ok
		})
	}
	for _, b := range bases {
		run(b)
	}
	for len(unprobed) > 0 {
		f := unprobed[0]
		unprobed = unprobed[1:]
		for _, in := range append([]map[string]string{f.in}, bases...) {
			for _, v := range probeValues {
				env := maps.Clone(in)
				env[f.name] = v
				run(env)
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}
