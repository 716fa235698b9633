// Command mkimage builds one of the images of internal/goimage for one or
// more platforms and pushes it (an OCI index) to a registry:
//
//	go run ./internal/goimage/cmd/mkimage -image frontend -ref registry.example.com/jbuild/frontend:1
//	go run ./internal/goimage/cmd/mkimage -image jbuild -addr tcp://buildkitd:1234 -ref registry.example.com/jbuild/jbuild:1
//
// -image frontend is the jbuild BuildKit frontend (the `# syntax=` image),
// -image jbuild is jbuild's own image (the CI templates' step image). With
// -addr the BuildKit daemon there assembles and pushes the image; without,
// it is assembled in memory here and pushed from here (no daemon). It
// prints REF@DIGEST, the reference to put on a Dockerfile's `# syntax=`
// line or a CI template's image. Credentials come from the Docker config
// (~/.docker/config.json, as `docker login` writes it) either way. Run it
// from the module root (make frontend-image and make jbuild-image do).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client"
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/ssh"

	"github.com/jbuild-dev/jbuild/internal/goimage"
)

// specs are the images -image names.
var specs = map[string]goimage.Spec{
	"frontend": goimage.Frontend,
	"jbuild":   goimage.Self,
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

// run builds and pushes the image args name and writes REF@DIGEST to out;
// compile lines, BuildKit's progress and flag errors go to log.
func run(ctx context.Context, args []string, out, log io.Writer) error {
	fl := flag.NewFlagSet("mkimage", flag.ContinueOnError)
	fl.SetOutput(log)
	image := fl.String("image", "", "image to build (required): frontend or jbuild")
	ref := fl.String("ref", "", "image reference to push to (required), e.g. registry.example.com/jbuild/frontend:1")
	addr := fl.String("addr", "", "BuildKit daemon to build on (tcp://..., unix://..., docker-container://...); empty: build in memory and push from here")
	platforms := fl.String("platform", "linux/amd64,linux/arm64", "comma-separated platforms to build")
	version := fl.String("version", "", "version for main.version and the image label (default: git describe, else dev)")
	pkg := fl.String("package", "", "main package (default the image's: ./cmd/jbuild-frontend, ./cmd/jbuild)")
	certs := fl.String("ca-certs", goimage.DefaultHostCACerts, "CA bundle to copy into the image (jbuild)")
	insecure := fl.Bool("insecure", false, "push over plain HTTP (loopback registries use it anyway)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	spec, ok := specs[*image]
	if !ok {
		return fmt.Errorf("-image %q: want frontend or jbuild", *image)
	}
	if *ref == "" {
		return fmt.Errorf("-ref is required (e.g. -ref registry.example.com/jbuild/%s:1)", *image)
	}
	var nopts []name.Option
	if *insecure {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.ParseReference(*ref, nopts...)
	if err != nil {
		return fmt.Errorf("parsing -ref: %w", err)
	}
	var plats []v1.Platform
	for _, s := range strings.Split(*platforms, ",") {
		p, err := v1.ParsePlatform(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("parsing -platform %q: %w", s, err)
		}
		plats = append(plats, *p)
	}
	if *version == "" {
		*version = git("describe", "--always", "--dirty")
	}
	opts := goimage.Options{
		Package:     *pkg,
		Platforms:   plats,
		Version:     *version,
		Revision:    git("rev-parse", "HEAD"),
		HostCACerts: *certs,
		Log:         log,
		Progress:    log,
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	var digest string
	if *addr != "" {
		c, err := client.New(ctx, *addr)
		if err != nil {
			return fmt.Errorf("connecting to BuildKit at %s: %w", *addr, err)
		}
		defer c.Close()
		if digest, err = spec.Push(ctx, c, goimage.Registry{Ref: *ref, Insecure: *insecure}, opts); err != nil {
			return err
		}
	} else {
		idx, err := spec.Build(ctx, opts)
		if err != nil {
			return err
		}
		if err := remote.WriteIndex(r, idx, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
			return fmt.Errorf("pushing %s: %w", *ref, err)
		}
		d, err := idx.Digest()
		if err != nil {
			return err
		}
		digest = d.String()
	}
	fmt.Fprintf(out, "%s@%s\n", r.Context().Name()+tagSuffix(r), digest)
	return nil
}

func tagSuffix(r name.Reference) string {
	if t, ok := r.(name.Tag); ok {
		return ":" + t.TagStr()
	}
	return ""
}

// git is the output of a git command in the current directory, "" outside
// a checkout (the version is then goimage.DefaultVersion).
func git(args ...string) string {
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
