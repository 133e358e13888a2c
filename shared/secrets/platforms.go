// Each platform's secret from its own source: the Secrets Manager cache for
// platforms configured with *_SECRET_ID, literal values for local runs.

package secrets

import (
	"context"
	"fmt"

	"github.com/intercom-identity/userhash/shared/platform"
)

// Platforms serves each platform's secret: Refs through Cache, and, for
// local runs, Static. A platform in neither is ErrNotConfigured; it never
// falls back to another platform's secret.
//
//	src := &secrets.Platforms{Cache: cache, Refs: map[platform.Platform]secrets.Ref{platform.IOS: ref}}
//	src.Prefetch(ctx) // during init
//	key, err := src.PlatformSecret(ctx, platform.IOS)
type Platforms struct {
	Cache  *Cache
	Refs   map[platform.Platform]Ref
	Static Static
}

// PlatformSecret returns the secret of p. Its errors name the platform and
// the secret ID, never a value; an *UnavailableError inside says when to try
// again.
func (ps *Platforms) PlatformSecret(ctx context.Context, p platform.Platform) ([]byte, error) {
	if ref, ok := ps.Refs[p]; ok && ps.Cache != nil {
		v, err := ps.Cache.Get(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("%s secret %s: %w", p, ref, err)
		}
		return v, nil
	}
	return ps.Static.PlatformSecret(ctx, p)
}

// Prefetch fetches every platform's secret in parallel; see Cache.Prefetch.
func (ps *Platforms) Prefetch(ctx context.Context) {
	if ps.Cache == nil || len(ps.Refs) == 0 {
		return
	}
	refs := make([]Ref, 0, len(ps.Refs))
	for _, r := range ps.Refs {
		refs = append(refs, r)
	}
	ps.Cache.Prefetch(ctx, refs...)
}
