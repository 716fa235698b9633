package frontendimage

import (
	"context"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/internal/gobuild"
)

// compile cross-compiles opts.Package for p (see gobuild.Static) and
// returns the binary.
func compile(ctx context.Context, opts Options, p v1.Platform) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "jbuild-frontendimage-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "jbuild-frontend")
	if err := gobuild.Static(ctx, opts.Go, opts.Dir, opts.Package, opts.Version, p, out); err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}
