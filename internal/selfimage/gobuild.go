package selfimage

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/internal/gobuild"
)

// compile cross-compiles opts.Package for p to out (see gobuild.Static).
func compile(ctx context.Context, opts Options, p v1.Platform, out string) error {
	return gobuild.Static(ctx, opts.Go, opts.Dir, opts.Package, opts.Version, p, out)
}
