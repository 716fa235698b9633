// Package gobuild cross-compiles a Go main package into a static Linux
// binary for an image (the frontend image and jbuild's own image).
package gobuild

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Static builds pkg (in the module at dir, with the go binary goBin) for
// platform p into out. CGO_ENABLED=0 makes it static (the images have no
// libc); -trimpath and -buildvcs=false keep build paths and VCS state out
// of it, so the binary depends on the source and the toolchain only; -s -w
// drop the symbol table and DWARF (a third of the size). version is set
// as main.version.
func Static(ctx context.Context, goBin, dir, pkg, version string, p v1.Platform, out string) error {
	env, err := Env(p)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, goBin, "build",
		"-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -X main.version="+version,
		"-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("compiling %s for %s: %w\n%s", pkg, p, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Env maps an image platform to GOOS/GOARCH (and GOARM for arm variants).
func Env(p v1.Platform) ([]string, error) {
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
