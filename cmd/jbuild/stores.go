package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/spf13/pflag"
)

// targetSuffix is appended to the source tag when no -t is given.
const targetSuffix = "-jennifer"

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
	return transport.Options{
		Registry: transport.RegistryOptions{UserAgent: "jbuild/" + version},
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

// defaultTarget is the source's repository with tag + "-jennifer".
func defaultTarget(src transport.Ref) (string, error) {
	tag := src.TagName()
	if tag == "" {
		return "", usageError{fmt.Errorf("%s has no tag to derive the target from: pass -t TARGET", src)}
	}
	t, err := src.WithTag(tag + targetSuffix)
	if err != nil {
		return "", err
	}
	return t.String(), nil
}

// defaultUnwrapTarget strips "-jennifer" from the tag.
func defaultUnwrapTarget(src transport.Ref) (string, error) {
	tag := src.TagName()
	base, ok := strings.CutSuffix(tag, targetSuffix)
	if !ok || base == "" {
		return "", usageError{fmt.Errorf("%s: the tag does not end in %q, so the original tag is unknown: pass -t TARGET", src, targetSuffix)}
	}
	t, err := src.WithTag(base)
	if err != nil {
		return "", err
	}
	return t.String(), nil
}

// defaultTargetFor is the source itself for a jbuild output (an agent
// upgrade in place: the previous image stays reachable by digest, and the
// original base is kept next to it), else tag + "-jennifer".
func defaultTargetFor(ctx context.Context, src transport.Store, g *globalFlags) (string, error) {
	out, err := wrap.IsOutput(ctx, src)
	if err != nil {
		return "", err
	}
	if out {
		return src.Ref().String(), nil
	}
	return defaultTarget(src.Ref())
}
