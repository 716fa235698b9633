package goimage

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// binName is the name of a platform's binary in the build directory.
func binName(p v1.Platform) string {
	return "binary-" + strings.ReplaceAll(p.String(), "/", "-")
}

// compileAll cross-compiles opts.Package for every platform into
// dir/binName(p), one log line each.
func compileAll(ctx context.Context, s Spec, opts Options, dir string) error {
	for _, p := range opts.Platforms {
		start := time.Now()
		if err := compile(ctx, opts, p, filepath.Join(dir, binName(p))); err != nil {
			return err
		}
		fmt.Fprintf(opts.Log, "goimage: %s %s: compiled %s in %s\n", s.Name, p, opts.Package, time.Since(start).Round(100*time.Millisecond))
	}
	return nil
}

// compile builds opts.Package for platform p into out. CGO_ENABLED=0
// makes it static (the images have no libc); -trimpath and
// -buildvcs=false keep build paths and VCS state out of it, so the binary
// depends on the source and the toolchain only; -s -w drop the symbol
// table and DWARF (a third of the size). opts.Version is set as
// main.version.
func compile(ctx context.Context, opts Options, p v1.Platform, out string) error {
	env, err := goEnv(p)
	if err != nil {
		return err
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

// goEnv maps an image platform to GOOS/GOARCH (and GOARM for arm variants).
func goEnv(p v1.Platform) ([]string, error) {
	if p.OS != "linux" {
		return nil, fmt.Errorf("platform %s: only linux images are supported", p)
	}
	if p.Architecture == "" {
		return nil, fmt.Errorf("platform %s: no architecture", p)
	}
	env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + p.Architecture}
	if p.Architecture == "arm" && p.Variant != "" {
		env = append(env, "GOARM="+strings.TrimPrefix(p.Variant, "v"))
	}
	return env, nil
}
