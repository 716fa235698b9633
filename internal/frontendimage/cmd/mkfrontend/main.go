// Command mkfrontend builds the jbuild BuildKit frontend image for one or
// more platforms and pushes it (an OCI index) to a registry:
//
//	go run ./internal/frontendimage/cmd/mkfrontend -ref registry.example.com/jbuild/frontend:1
//
// It prints REF@DIGEST, the reference to put on a Dockerfile's
// `# syntax=` line. Credentials come from the Docker config
// (~/.docker/config.json, as `docker login` writes it). Run it from the
// module root (make frontend-image does).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/jbuild-dev/jbuild/internal/frontendimage"
)

func main() {
	ref := flag.String("ref", "", "image reference to push to (required), e.g. registry.example.com/jbuild/frontend:1")
	platforms := flag.String("platform", "linux/amd64,linux/arm64", "comma-separated platforms to build")
	version := flag.String("version", "", "version for main.version and the image label (default: git describe, else dev)")
	pkg := flag.String("package", frontendimage.DefaultPackage, "main package of the frontend")
	insecure := flag.Bool("insecure", false, "allow plain HTTP to the registry (loopback registries use it anyway)")
	flag.Parse()
	if err := run(*ref, *platforms, *version, *pkg, *insecure); err != nil {
		fmt.Fprintln(os.Stderr, "mkfrontend:", err)
		os.Exit(1)
	}
}

func run(ref, platforms, version, pkg string, insecure bool) error {
	if ref == "" {
		return fmt.Errorf("-ref is required (e.g. -ref registry.example.com/jbuild/frontend:1)")
	}
	var nopts []name.Option
	if insecure {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nopts...)
	if err != nil {
		return fmt.Errorf("parsing -ref: %w", err)
	}
	var plats []v1.Platform
	for _, s := range strings.Split(platforms, ",") {
		p, err := v1.ParsePlatform(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("parsing -platform %q: %w", s, err)
		}
		plats = append(plats, *p)
	}
	if version == "" {
		version = gitDescribe()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	idx, err := frontendimage.Build(ctx, frontendimage.Options{
		Package:   pkg,
		Platforms: plats,
		Version:   version,
		Log:       os.Stderr,
	})
	if err != nil {
		return err
	}
	if err := remote.WriteIndex(r, idx, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s@%s\n", r.Context().Name()+tagSuffix(r), d)
	return nil
}

func tagSuffix(r name.Reference) string {
	if t, ok := r.(name.Tag); ok {
		return ":" + t.TagStr()
	}
	return ""
}

// gitDescribe is `git describe --always --dirty` (the Makefile's VERSION),
// or "dev" outside a git checkout.
func gitDescribe() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return frontendimage.DefaultVersion
	}
	if v := strings.TrimSpace(string(out)); v != "" {
		return v
	}
	return frontendimage.DefaultVersion
}
