// Package envvars finds which environment variables the functions read, by
// running their readers rather than keeping a list, so that the template's
// tests cannot drift from the code.
//
//	for _, name := range envvars.UserHash() { ... } // config.Load and awsenv.ReadEnv
//	for _, name := range envvars.Rotate() { ... }   // config.LoadRotation and awsenv.ReadEnv
package envvars

import (
	"cmp"
	"maps"
	"slices"

	"github.com/intercom-identity/userhash/shared/awsenv"
	"github.com/intercom-identity/userhash/shared/config"
)

// Lookup is how a reader asks for a variable: os.LookupEnv outside tests.
type Lookup = func(string) (string, bool)

// ReadUserHash reads the user-hash function's environment as its main
// does, config.Load and awsenv.ReadEnv, and returns the first refusal.
// Both are read whatever the other says, as the two are independent.
func ReadUserHash(lookup Lookup) error {
	_, err := config.Load(lookup)
	_, awsErr := awsenv.ReadEnv(lookup)
	return cmp.Or(err, awsErr)
}

// ReadRotate reads the rotation function's environment as its main does.
func ReadRotate(lookup Lookup) error {
	_, err := config.LoadRotation(lookup)
	_, awsErr := awsenv.ReadEnv(lookup)
	return cmp.Or(err, awsErr)
}

// UserHash returns every environment variable the user-hash function
// reads (ReadUserHash), sorted. The template test holds the SAM template's
// environment to it.
//
// It is what the readers ask their lookup for, not a list kept by hand.
// Load reads some variables only on some paths (password mode, inside
// Lambda, past a check that an earlier variable passed), so it is run over a
// configuration that gets to the end of Load in each way the function runs,
// and over each of those with each variable it asked for set to each of a
// few telling values (and so on, from the configuration that first asked
// for a name), until no run asks for a name not seen before. A variable
// added to Load is in the list with nothing else to change. Three things
// hold it complete: the configurations reach the end of Load in each mode;
// the probing alone, from an empty environment, finds the same list (a
// test checks it); and every name the tests of Load make it ask for must
// be in the list, so a read that only an untried combination of values
// reaches fails the test that reaches it.
func UserHash() []string {
	return Reads(func(lookup Lookup) { _ = ReadUserHash(lookup) }, Configurations())
}

// Rotate returns every environment variable the rotation function reads
// (ReadRotate), sorted, found as UserHash's are, here from an empty
// environment alone, which reaches every path of LoadRotation.
func Rotate() []string {
	return Reads(func(lookup Lookup) { _ = ReadRotate(lookup) }, []map[string]string{{}})
}

// Configurations are valid configurations, one for each way the
// user-hash function runs: each takes Load to its end.
func Configurations() []map[string]string {
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

// Reads returns, sorted, every name load asks its lookup for when run over
// each of bases, and, for each name asked, over the configuration that
// first asked for it and over each base, with that name set to each of
// probeValues; until no run asks for a new name. Trying a name in the
// configuration that asked for it reaches the reads nested under it: a
// variable read only when another has a given value.
func Reads(load func(Lookup), bases []map[string]string) []string {
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
