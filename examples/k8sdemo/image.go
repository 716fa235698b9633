package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	bkclient "github.com/moby/buildkit/client"
	"github.com/tonistiigi/fsutil"

	"github.com/jbuild-dev/jbuild/internal/testing/e2e"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// The Java sample's base images stand in for eclipse-temurin (no public
// registry is reachable here): Debian bookworm with the JDK or the JRE,
// made with debootstrap and cached by internal/testing/e2e, with the
// environment the official images set.
var (
	javaEnv    = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "JAVA_HOME=/usr/lib/jvm/java-17-openjdk-" + runtime.GOARCH, "JAVA_VERSION=jdk-17"}
	baseImages = map[string]struct {
		repo   string
		rootfs e2e.Rootfs
	}{
		"BUILD_IMAGE": {"eclipse-temurin:17-jdk", e2e.Rootfs{Name: "jdk", Packages: []string{"openjdk-17-jdk-headless"}}},
		"BASE_IMAGE":  {"eclipse-temurin:17-jre", e2e.Java.Rootfs},
	}
)

// pushBase pushes a debootstrap rootfs as a one-layer image to ref.
func pushBase(ctx context.Context, ref string, rootfs e2e.Rootfs) error {
	layer, err := rootfs.Layer()
	if err != nil {
		return fmt.Errorf("base image %s: %w", ref, err)
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: runtime.GOARCH, OS: "linux",
		Config: v1.Config{Env: javaEnv, Cmd: []string{"/bin/sh"}},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return err
	}
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "debootstrap " + strings.Join(rootfs.Packages, " ")}})
	if err != nil {
		return err
	}
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return err
	}
	return remote.Write(r, img, remote.WithContext(ctx))
}

// buildSample builds examples/java-sample/Dockerfile, as shipped, the way
// `docker buildx build --build-arg BUILDKIT_SYNTAX=<frontend>
// --build-context jennifer-agent=<agent> --build-arg JENNIFER_...` does:
// BuildKit's Dockerfile frontend hands the build to the jbuild frontend,
// which adds the agent and its settings; the monitored image is pushed to
// out.
func buildSample(ctx context.Context, bkAddr, frontend, reg, agentDir, out string, settings map[string]string) error {
	c, err := bkclient.New(ctx, bkAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	dir := filepath.Join(testenv.RepoRoot(), "examples", "java-sample")
	src, err := fsutil.NewFS(dir)
	if err != nil {
		return err
	}
	agentFS, err := fsutil.NewFS(agentDir)
	if err != nil {
		return err
	}
	attrs := map[string]string{
		"filename":                  "Dockerfile",
		"build-arg:BUILDKIT_SYNTAX": frontend,
		"context:jennifer-agent":    "local:jennifer-agent",
	}
	for k, v := range settings {
		attrs["build-arg:"+k] = v
	}
	for arg, b := range baseImages {
		ref := reg + "/examples/base/" + b.repo
		if err := pushBase(ctx, ref, b.rootfs); err != nil {
			return err
		}
		attrs["build-arg:"+arg] = ref
	}
	opt := bkclient.SolveOpt{
		Frontend:      "dockerfile.v0",
		FrontendAttrs: attrs,
		LocalMounts:   map[string]fsutil.FS{"context": src, "dockerfile": src, "jennifer-agent": agentFS},
		Exports: []bkclient.ExportEntry{{Type: bkclient.ExporterImage, Attrs: map[string]string{
			"name": out, "push": "true", "registry.insecure": "true"}}},
	}
	if err := testenv.SolveLogged(ctx, c, opt); err != nil {
		return fmt.Errorf("building examples/java-sample: %w", err)
	}
	return nil
}

// readImage reads ref from the loopback registry.
func readImage(ctx context.Context, ref string) (v1.Image, error) {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return nil, err
	}
	return remote.Image(r, remote.WithContext(ctx))
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
