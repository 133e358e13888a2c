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
//	src := secrets.NewPlatforms(cache, cfg.SecretIDs, cfg.SecretLiterals)
//	src.Prefetch(ctx) // during init
//	key, err := src.PlatformSecret(ctx, platform.IOS)
type Platforms struct {
	Cache  *Cache
	Refs   map[platform.Platform]Ref
	Static Static
}

// NewPlatforms returns the source of each platform's secret, from maps
// keyed by platform name as config.Config's are: ids through cache (an ID,
// or ID#key as config.Load checked it), literals as they are. The function
// and the doctor read secrets through it alike.
func NewPlatforms(cache *Cache, ids, literals map[string]string) *Platforms {
	ps := &Platforms{Cache: cache, Refs: map[platform.Platform]Ref{}, Static: Static{}}
	for name, id := range ids {
		if p, err := platform.Parse(name); err == nil {
			ps.Refs[p] = RefOf(id)
		}
	}
	for name, v := range literals {
		if p, err := platform.Parse(name); err == nil {
			ps.Static[p] = []byte(v)
		}
	}
	return ps
}

// Served lists the platforms that have a secret, in platform.All order.
func (ps *Platforms) Served() []platform.Platform {
	var out []platform.Platform
	for _, p := range platform.All() {
		_, ref := ps.Refs[p]
		_, lit := ps.Static[p]
		if ref || lit {
			out = append(out, p)
		}
	}
	return out
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

// Prefetch fetches every platform's secret, and the extra ones (the Cognito
// app client's), in one go; see Cache.Prefetch.
func (ps *Platforms) Prefetch(ctx context.Context, extra ...Ref) {
	if ps.Cache == nil || len(ps.Refs)+len(extra) == 0 {
		return
	}
	refs := extra
	for _, r := range ps.Refs {
		refs = append(refs, r)
	}
	ps.Cache.Prefetch(ctx, refs...)
}
