package envvars_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/intercom-identity/userhash/internal/envvars"
)

// TestReadsFindsEveryPath holds Reads to its promise on a loader with the
// kinds of branch Load has: a read behind a value, behind a set-but-empty
// variable, behind two values at once, and after an early return.
func TestReadsFindsEveryPath(t *testing.T) {
	load := func(lookup envvars.Lookup) {
		get := func(name string) string { v, _ := lookup(name); return v }
		if get("MODE") == "password" {
			get("PASSWORD_ONLY")
		}
		if _, ok := lookup("CLAIM"); ok {
			get("ONLY_WHEN_SET")
		}
		if get("A") == "1" && get("B") == "true" {
			get("BOTH")
		}
		if get("TTL") == "x" {
			return // a refusal: nothing below is read
		}
		get("AFTER_THE_CHECKS")
	}
	got := envvars.Reads(load, []map[string]string{{}})
	want := []string{"A", "AFTER_THE_CHECKS", "B", "BOTH", "CLAIM", "MODE", "ONLY_WHEN_SET", "PASSWORD_ONLY", "TTL"}
	if !slices.Equal(got, want) {
		t.Errorf("Reads = %v\nwant    %v", got, want)
	}
}

// TestConfigurationsAreValid checks that each configuration UserHash
// starts from gets to the end of the reading, as its reads depend on.
func TestConfigurationsAreValid(t *testing.T) {
	for _, env := range envvars.Configurations() {
		if err := envvars.ReadUserHash(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
			t.Errorf("ReadUserHash(%v): %v", env, err)
		}
	}
}

// TestProbingAloneFindsEveryVariable checks that the probing, started from
// an empty environment, already finds every variable the configurations
// of each mode find: the two reach Load's paths independently, so a
// variable one of them misses the other still finds.
func TestProbingAloneFindsEveryVariable(t *testing.T) {
	fromNothing := envvars.Reads(func(lookup envvars.Lookup) { _ = envvars.ReadUserHash(lookup) }, []map[string]string{{}})
	if want := envvars.UserHash(); !slices.Equal(fromNothing, want) {
		t.Errorf("from an empty environment: %v\nfrom each mode's configuration: %v", fromNothing, want)
	}
}

func TestUserHash(t *testing.T) {
	got := envvars.UserHash()
	if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("UserHash() = %v, want sorted names, each once", got)
	}
	// Spot checks, one per path of Load: a variable of every mode and place.
	for _, name := range []string{
		"AUTH_MODE", "IOS_SECRET_ID", "WEB_SECRET", "COGNITO_CLIENT_SECRET_ID", "USERS_FILE",
		"JWT_AUDIENCE", "AWS_LAMBDA_LOG_LEVEL", "AWS_LAMBDA_RUNTIME_API", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
	} {
		if !slices.Contains(got, name) {
			t.Errorf("UserHash() has no %s: %v", name, got)
		}
	}
}

// TestReadUserHashReadsAWS checks the function refuses a bad AWS endpoint
// at start, as it reads the AWS variables beside its own.
func TestReadUserHashReadsAWS(t *testing.T) {
	env := map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "IOS_SECRET_ID": "ios", "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "ftp://x"}
	err := envvars.ReadUserHash(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err == nil || !strings.HasPrefix(err.Error(), "AWS_ENDPOINT_URL: ") {
		t.Errorf("a bad AWS_ENDPOINT_URL: %v; want a refusal naming it", err)
	}
}
