// VersionID: which Secrets Manager version the cache holds, for operators'
// tools.

package secrets_test

import (
	"context"
	"testing"

	"github.com/intercom-identity/userhash/shared/secrets"
)

func TestCacheVersionID(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ios := secrets.Ref{ID: "intercom/ios"}
	f.sm.Put(ios.ID, "ios-secret-v1")
	const v1, v2 = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"

	if got := f.cache.VersionID(ios.ID); got != "" {
		t.Errorf("before any fetch: VersionID = %q, want \"\"", got)
	}
	if _, err := f.cache.Get(ctx, ios); err != nil {
		t.Fatal(err)
	}
	if got := f.cache.VersionID(ios.ID); got != v1 {
		t.Errorf("after the first fetch: VersionID = %q, want %q", got, v1)
	}

	f.sm.Put(ios.ID, "ios-secret-v2")
	if got := f.cache.VersionID(ios.ID); got != v1 {
		t.Errorf("rotated but not refetched: VersionID = %q, want the cached %q", got, v1)
	}
	f.clock.Advance(testTTL)
	if _, err := f.cache.Get(ctx, ios); err != nil {
		t.Fatal(err)
	}
	if got := f.cache.VersionID(ios.ID); got != v2 {
		t.Errorf("after the refetch: VersionID = %q, want %q", got, v2)
	}

	missing := secrets.Ref{ID: "intercom/missing"}
	if _, err := f.cache.Get(ctx, missing); err == nil {
		t.Fatal("Get of a missing secret succeeded")
	}
	if got := f.cache.VersionID(missing.ID); got != "" {
		t.Errorf("after a failed fetch: VersionID = %q, want \"\"", got)
	}
	if calls := f.sm.TotalCalls(); calls != 3 {
		t.Errorf("GetSecretValue calls = %d, want 3: VersionID must make none", calls)
	}
}
