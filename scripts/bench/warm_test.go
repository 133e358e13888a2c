package main

import (
	"path/filepath"
	"testing"
)

// warmAllocCeiling is what a warm request allocates today, as a guard
// against regressions (see BENCHMARKS.md for where the allocations go).
// There is no allocation goal: half of them are golang-jwt's, which cost
// nothing a user sees. Lower it as the warm path gets leaner; raise it
// only with a reason in the commit.
const warmAllocCeiling = 73

func newTestWarm(t testing.TB) *warm {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	w, err := newWarm(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	return w
}

// TestWarmPathAllocs holds the warm path to its allocation ceiling;
// unlike time, allocations do not vary with the machine, so this can run
// in CI.
func TestWarmPathAllocs(t *testing.T) {
	w := newTestWarm(t)
	got := testing.AllocsPerRun(200, func() { _, _ = w.serve() })
	if limit := warmAllocCeiling + raceAllocHeadroom; got > float64(limit) {
		t.Errorf("a warm request makes %.0f allocations, want at most %d", got, limit)
	}
	t.Logf("a warm request makes %.0f allocations", got)
}

func BenchmarkWarmHandler(b *testing.B) { newTestWarm(b).benchHandler(b) }

func BenchmarkRawHMAC(b *testing.B) { benchHMAC(b) }
