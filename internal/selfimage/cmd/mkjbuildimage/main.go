// Command mkjbuildimage builds the container image of jbuild itself on a
// BuildKit daemon and pushes it (an OCI index, one image per platform):
//
//	BUILDKIT_HOST=tcp://buildkitd:1234 go run ./internal/selfimage/cmd/mkjbuildimage -ref registry.example.com/jbuild/jbuild:1
//
// It prints REF@DIGEST. Registry credentials come from the Docker config
// (~/.docker/config.json). Run it from the module root (make jbuild-image
// does).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/client"
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/ssh"

	"github.com/jbuild-dev/jbuild/internal/selfimage"
)

func main() {
	ref := flag.String("ref", "", "image reference to push to (required), e.g. registry.example.com/jbuild/jbuild:1")
	addr := flag.String("addr", os.Getenv("BUILDKIT_HOST"), "BuildKit daemon address (default $BUILDKIT_HOST)")
	platforms := flag.String("platform", "linux/amd64,linux/arm64", "comma-separated platforms to build")
	version := flag.String("version", "", "version for main.version and the image label (default: git describe, else dev)")
	certs := flag.String("ca-certs", selfimage.DefaultHostCACerts, "CA bundle to copy into the image")
	insecure := flag.Bool("insecure", false, "push over plain HTTP")
	flag.Parse()
	if err := run(*ref, *addr, *platforms, *version, *certs, *insecure); err != nil {
		fmt.Fprintln(os.Stderr, "mkjbuildimage:", err)
		os.Exit(1)
	}
}

func run(ref, addr, platforms, version, certs string, insecure bool) error {
	if ref == "" {
		return fmt.Errorf("-ref is required (e.g. -ref registry.example.com/jbuild/jbuild:1)")
	}
	if addr == "" {
		return fmt.Errorf("no BuildKit daemon: set BUILDKIT_HOST or -addr (e.g. tcp://buildkitd:1234, unix:///run/buildkit/buildkitd.sock, docker-container://buildx_buildkit_default)")
	}
	var plats []v1.Platform
	for _, s := range strings.Split(platforms, ",") {
		p, err := v1.ParsePlatform(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-platform %q: %w", s, err)
		}
		plats = append(plats, *p)
	}
	if version == "" {
		version = git("describe", "--always", "--dirty")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c, err := client.New(ctx, addr)
	if err != nil {
		return fmt.Errorf("connecting to BuildKit at %s: %w", addr, err)
	}
	defer c.Close()
	digest, err := selfimage.Build(ctx, c, selfimage.Options{
		Ref:         ref,
		Insecure:    insecure,
		Platforms:   plats,
		Version:     version,
		Revision:    git("rev-parse", "HEAD"),
		HostCACerts: certs,
		Log:         os.Stderr,
		Progress:    os.Stderr,
	})
	if err != nil {
		return err
	}
	fmt.Printf("%s@%s\n", ref, digest)
	return nil
}

func git(args ...string) string {
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
