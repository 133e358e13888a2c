// What a cache hit costs beside the HMAC-SHA256 it feeds: the hit should be
// the smaller part of a request's work.

package secrets_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// benchIdentifier is a typical Intercom user_id.
const benchIdentifier = "user-8c1f2a7e-4b5d-4e0f-9a3b-2d6c7e8f9a01"

func BenchmarkCacheHit(b *testing.B) {
	src, ref := warmCache(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := src.Cache.Get(ctx, ref); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCacheHitParallel(b *testing.B) {
	src, ref := warmCache(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := src.Cache.Get(ctx, ref); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkPlatformSecretHit(b *testing.B) {
	src, _ := warmCache(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := src.PlatformSecret(ctx, platform.IOS); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHMACSHA256 is the raw hash of the same identifier with the same
// key, the work every request does after the cache hit.
func BenchmarkHMACSHA256(b *testing.B) {
	src, ref := warmCache(b)
	key, err := src.Cache.Get(context.Background(), ref)
	if err != nil {
		b.Fatal(err)
	}
	var sum [sha256.Size]byte
	b.ReportAllocs()
	for b.Loop() {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(benchIdentifier))
		mac.Sum(sum[:0])
	}
}

func warmCache(b *testing.B) (*secrets.Platforms, secrets.Ref) {
	b.Helper()
	// The real clock and no observer: the fixture's fake clock and event
	// counter take locks that production does not.
	f := newFixture(b, secrets.WithClock(time.Now), secrets.WithObserver(nil))
	f.sm.Put("intercom/mobile", `{"ios":"0123456789abcdef0123456789abcdef0123456789abcdef"}`)
	ref := secrets.Ref{ID: "intercom/mobile", Key: "ios"}
	src := &secrets.Platforms{Cache: f.cache, Refs: map[platform.Platform]secrets.Ref{platform.IOS: ref}}
	src.Prefetch(context.Background())
	if got := f.sm.Calls("intercom/mobile"); got != 1 {
		b.Fatalf("warm-up calls = %d, want 1", got)
	}
	return src, ref
}
