package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/pflag"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/jbuild-dev/jbuild/templates"
)

// targetSuffix is appended to the source tag when no -t is given and
// the agent's profile is not known yet (JENNIFER's built-in profiles');
// otherwise the profile's (buildplan.Profile.Suffix).
var targetSuffix = buildplan.AgentSuffix("JENNIFER")

// profileSuffix is the default target's tag suffix for a wrap with opts:
// the profile's, the one given or the one the agent's files pick.
func profileSuffix(ctx context.Context, opts wrap.Options) string {
	if opts.Profile != nil {
		return opts.Profile.Suffix()
	}
	var p *v1.Platform
	if ps, err := opts.Agent.Platforms(ctx); err == nil && len(ps) > 0 {
		p = &ps[0]
	}
	if b, err := opts.Agent.Bundle(ctx, p); err == nil {
		if prof, ok := templates.MatchBundle(b.Files); ok {
			return prof.Suffix()
		}
	}
	// A runtime-chosen profile: the built-in ones are JENNIFER's.
	return targetSuffix
}

// storeFlags are the global flags of the daemon stores. The Docker daemon
// is found as the docker CLI finds it (DOCKER_HOST and friends).
type storeFlags struct {
	containerdAddress   string
	containerdNamespace string
}

func (f *storeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.containerdAddress, "containerd-address", "", "containerd socket for containerd: images (default $CONTAINERD_ADDRESS, else "+transport.DefaultContainerdAddress+")")
	fs.StringVar(&f.containerdNamespace, "containerd-namespace", "", "containerd namespace for containerd: images (default $CONTAINERD_NAMESPACE, else "+transport.DefaultContainerdNamespace+", where kubelet keeps its images)")
}

func storeOptions(g *globalFlags) transport.Options {
	var onRetry func(string)
	if !g.quiet {
		onRetry = g.retries.say
	}
	return transport.Options{
		Registry: transport.RegistryOptions{UserAgent: "jbuild/" + version, OnRetry: onRetry},
		// The environment variables are ctr's and nerdctl's.
		Containerd: transport.ContainerdOptions{
			Address:   firstNonEmpty(g.stores.containerdAddress, os.Getenv("CONTAINERD_ADDRESS")),
			Namespace: firstNonEmpty(g.stores.containerdNamespace, os.Getenv("CONTAINERD_NAMESPACE")),
		},
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// openStore parses ref and opens its store; the store is closed when the
// command ends.
func openStore(g *globalFlags, ref string, opts transport.Options) (transport.Store, error) {
	r, err := transport.Parse(ref)
	if err != nil {
		return nil, usageError{err}
	}
	st, err := transport.Open(r, opts)
	if err != nil {
		return nil, err
	}
	g.onExit(st.Close)
	return st, nil
}

// defaultTarget is the source's repository with tag + suffix.
func defaultTarget(src transport.Ref, suffix string) (string, error) {
	tag := src.TagName()
	if tag == "" {
		return "", usageError{fmt.Errorf("%s has no tag to derive the target from: pass -t TARGET", src)}
	}
	t, err := src.WithTag(tag + suffix)
	if err != nil {
		return "", err
	}
	return t.String(), nil
}

// defaultUnwrapTarget strips the suffix of the output's profile (the one
// it carries, so a user profile's targetSuffix too) from the tag; labels
// are its config labels.
func defaultUnwrapTarget(src transport.Ref, labels map[string]string) (string, error) {
	suffix := targetSuffix
	if prof, err := templates.ForImage(labels); err == nil {
		suffix = prof.Suffix()
	} else if a := labels[buildplan.LabelAgent]; a != "" {
		suffix = buildplan.AgentSuffix(a)
	}
	tag := src.TagName()
	base, ok := strings.CutSuffix(tag, suffix)
	if !ok || base == "" {
		return "", usageError{fmt.Errorf("%s: the tag does not end in %q, so the original tag is unknown: pass -t TARGET", src, suffix)}
	}
	t, err := src.WithTag(base)
	if err != nil {
		return "", err
	}
	return t.String(), nil
}

// defaultTargetFor is the source itself for a jbuild output (an agent
// upgrade in place: the previous image stays reachable by digest, and the
// original base is kept next to it), else tag + the profile's suffix.
func defaultTargetFor(ctx context.Context, src transport.Store, opts wrap.Options) (string, error) {
	out, err := wrap.IsOutput(ctx, src)
	if err != nil {
		return "", err
	}
	if out {
		return src.Ref().String(), nil
	}
	return defaultTarget(src.Ref(), profileSuffix(ctx, opts))
}

// outputLabels are the config labels of the image st names (its first
// platform's, for an index).
func outputLabels(ctx context.Context, st transport.Store) (map[string]string, error) {
	a, err := st.Get(ctx)
	if err != nil {
		return nil, err
	}
	return a.FirstLabels()
}

// blobSizes are the sizes of a registry source's layers and configs, by
// digest: what a push to another repository of the registry mounts or
// finds there, so the progress display does not count them as uploaded.
// Empty for other sources (nothing is mounted from them) or when the
// source cannot be read (the wrap then says why).
func blobSizes(ctx context.Context, src transport.Store) map[string]int64 {
	sizes := map[string]int64{}
	if src.Ref().Kind != transport.KindRegistry {
		return sizes
	}
	a, err := src.Get(ctx)
	if err != nil {
		return sizes
	}
	pis, err := a.PlatformImages()
	if err != nil {
		return sizes
	}
	for _, pi := range pis {
		m, err := pi.Image.Manifest()
		if err != nil {
			continue
		}
		sizes[m.Config.Digest.String()] = m.Config.Size
		for _, l := range m.Layers {
			sizes[l.Digest.String()] = l.Size
		}
	}
	return sizes
}
