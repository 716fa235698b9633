package verify

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
)

// Store verifies every platform image of the image st names statically,
// reading the base each was made from: the one its labels name (next to it
// first, then where its name points) or, for an output whose base was
// never stored (a Dockerfile build through the frontend), the base
// rebuilt from it.
// prof is as for Image.
func Store(ctx context.Context, st transport.Store, stores transport.Options, prof *buildplan.Profile) ([]*Report, error) {
	a, err := st.Get(ctx)
	if err != nil {
		return nil, err
	}
	// An output whose base was never stored (a Dockerfile build through
	// the frontend) names no digest: its base is rebuilt from it.
	var img v1.Image
	base := func(ctx context.Context, name, digest string) (v1.Image, error) {
		if digest == "" {
			return wrap.InImageBase(img)
		}
		h, err := v1.NewHash(digest)
		if err != nil {
			return nil, err
		}
		b, err := wrap.FindBase(ctx, st, name, h, stores)
		if err != nil {
			return nil, err
		}
		if b.Image == nil {
			return nil, fmt.Errorf("base %s is an index", digest)
		}
		return b.Image, nil
	}
	pis, err := a.PlatformImages()
	if err != nil {
		return nil, err
	}
	var out []*Report
	for _, pi := range pis {
		img = pi.Image
		r, err := Image(ctx, st.Ref().String(), pi.Image, base, prof)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
