package config

import (
	"slices"
	"testing"
)

// TestReadsFindsEveryPath holds reads to its promise on a loader with the
// kinds of branch Load has: a read behind a value, behind a set-but-empty
// variable, behind two values at once, and after an early return.
func TestReadsFindsEveryPath(t *testing.T) {
	load := func(lookup func(string) (string, bool)) {
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
	got := reads(load, []map[string]string{{}})
	want := []string{"A", "AFTER_THE_CHECKS", "B", "BOTH", "CLAIM", "MODE", "ONLY_WHEN_SET", "PASSWORD_ONLY", "TTL"}
	if !slices.Equal(got, want) {
		t.Errorf("reads = %v\nwant    %v", got, want)
	}
}

// TestLoadConfigurationsAreValid checks that each configuration Variables
// starts from gets to the end of Load, as its reads depend on.
func TestLoadConfigurationsAreValid(t *testing.T) {
	for _, env := range loadConfigurations() {
		if _, err := Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
			t.Errorf("Load(%v): %v", env, err)
		}
	}
}

// TestProbingAloneFindsEveryVariable checks that the probing, started from
// an empty environment, already finds every variable the configurations
// of each mode find: the two reach Load's paths independently, so a
// variable one of them misses the other still finds.
func TestProbingAloneFindsEveryVariable(t *testing.T) {
	fromNothing := reads(func(lookup func(string) (string, bool)) { _, _ = Load(lookup) }, []map[string]string{{}})
	if want := Variables(); !slices.Equal(fromNothing, want) {
		t.Errorf("from an empty environment: %v\nfrom each mode's configuration: %v", fromNothing, want)
	}
}
