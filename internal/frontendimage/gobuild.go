package frontendimage

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// compile cross-compiles opts.Package for p and returns the binary.
// CGO_ENABLED=0 makes it static (the image has no libc); -trimpath and
// -buildvcs=false keep build paths and VCS state out of it, so the binary
// depends on the source and toolchain only; -s -w drop the symbol table
// and DWARF (a third of the size).
func compile(ctx context.Context, opts Options, p v1.Platform) ([]byte, error) {
	env, err := goEnv(p)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "jbuild-frontendimage-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "jbuild-frontend")

	cmd := exec.CommandContext(ctx, opts.Go, "build",
		"-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X main.version="+opts.Version,
		"-o", out, opts.Package)
	cmd.Dir = opts.Dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("compiling %s for %s: %w\n%s", opts.Package, p, err, strings.TrimSpace(stderr.String()))
	}
	return os.ReadFile(out)
}

// goEnv maps an image platform to GOOS/GOARCH (and GOARM for arm variants).
func goEnv(p v1.Platform) ([]string, error) {
	if p.OS != "linux" {
		return nil, fmt.Errorf("platform %s: only linux frontend images are supported", p)
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
