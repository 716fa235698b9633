package main

import (
	"context"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/client"
	// Addresses as buildctl takes them: kube-pod://POD (buildx's kubernetes
	// driver), docker-container://NAME, ssh://HOST, besides tcp:// and unix://.
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer"
	_ "github.com/moby/buildkit/client/connhelper/kubepod"
	_ "github.com/moby/buildkit/client/connhelper/ssh"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/frontend"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
)

// wrapOnBuilder runs `wrap --builder ADDR`: the frontend's injection on a
// BuildKit daemon, which pulls the source and pushes the target itself.
func wrapOnBuilder(ctx context.Context, g *globalFlags, addr string, pf *planFlags, src, dst transport.Store, force bool, stdout io.Writer) error {
	if src.Ref().Kind != transport.KindRegistry || dst.Ref().Kind != transport.KindRegistry {
		return usageError{fmt.Errorf("--builder wraps registry images: BuildKit pulls %s and pushes %s itself", src.Ref(), dst.Ref())}
	}
	if err := wrap.CheckTarget(ctx, src, dst, force); err != nil {
		return err
	}
	settings, agentDir, err := pf.remoteSettings()
	if err != nil {
		return err
	}
	plats, err := sourcePlatforms(ctx, src, pf)
	if err != nil {
		return err
	}
	c, err := client.New(ctx, addr)
	if err != nil {
		return fmt.Errorf("connecting to BuildKit at %s: %w (is buildkitd running there? check --builder)", addr, err)
	}
	defer c.Close()
	var progress io.Writer
	if !g.quiet {
		progress = os.Stderr
	}
	reg := dst.Ref().Registry.Context().Registry
	digest, err := frontend.WrapOnBuilder(ctx, c, frontend.RemoteWrap{
		Source:    src.Ref().String(),
		Target:    dst.Ref().String(),
		Platforms: plats,
		Settings:  settings,
		AgentDir:  agentDir,
		Insecure:  reg.Scheme() == "http",
		Progress:  progress,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s@%s\n", dst.Ref(), digest)
	return nil
}

// sourcePlatforms lists what to wrap: the platforms of an index (attestation
// entries left out, --platform applied) or the one platform of an image.
func sourcePlatforms(ctx context.Context, src transport.Store, pf *planFlags) ([]ocispecs.Platform, error) {
	a, err := src.Get(ctx)
	if err != nil {
		return nil, err
	}
	var want []v1.Platform
	for _, s := range pf.platforms {
		p, err := v1.ParsePlatform(s)
		if err != nil {
			return nil, usageError{fmt.Errorf("--platform %q: %w", s, err)}
		}
		want = append(want, *p)
	}
	keep := func(p v1.Platform) bool {
		if len(want) == 0 {
			return true
		}
		for _, w := range want {
			if p.Satisfies(w) {
				return true
			}
		}
		return false
	}
	var out []ocispecs.Platform
	add := func(p v1.Platform) {
		if keep(p) {
			out = append(out, ocispecs.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant})
		}
	}
	pis, err := a.PlatformImages()
	if err != nil {
		return nil, err
	}
	for _, pi := range pis {
		if pi.Desc != nil {
			add(*pi.Desc.Platform)
			continue
		}
		cf, err := pi.Image.ConfigFile()
		if err != nil {
			return nil, err
		}
		add(v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no image for --platform %v", src.Ref(), pf.platforms)
	}
	return out, nil
}
