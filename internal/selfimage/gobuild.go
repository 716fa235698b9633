package selfimage

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// compile cross-compiles opts.Package for p to out, as
// internal/frontendimage does for the frontend: CGO_ENABLED=0 makes it
// static (the image has no libc), -trimpath and -buildvcs=false keep build
// paths and VCS state out of it, -s -w drop the symbol table and DWARF.
func compile(ctx context.Context, opts Options, p v1.Platform, out string) error {
	if p.OS != "linux" || p.Architecture == "" {
		return fmt.Errorf("platform %s: only linux/ARCH images are supported", p)
	}
	env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + p.Architecture}
	if p.Architecture == "arm" && p.Variant != "" {
		env = append(env, "GOARM="+strings.TrimPrefix(p.Variant, "v"))
	}
	cmd := exec.CommandContext(ctx, opts.Go, "build",
		"-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X main.version="+opts.Version,
		"-o", out, opts.Package)
	cmd.Dir = opts.Dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("compiling %s for %s: %w\n%s", opts.Package, p, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
