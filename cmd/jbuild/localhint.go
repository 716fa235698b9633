package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	dockerclient "github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/jbuild-dev/jbuild/internal/transport"
)

// localHint: `jbuild wrap myapp:1` right after `docker build -t myapp:1`
// names Docker Hub (a name without a registry host is a registry image, as
// for docker pull), which does not resolve here. When the name does not
// resolve and the local Docker daemon or containerd holds the image, the
// error says which prefix was meant. jbuild does not pick the local image
// itself: the same name would then mean a different image on a machine
// that can reach Docker Hub.
func localHint(ctx context.Context, g *globalFlags, arg string, err error) error {
	if err == nil || !unresolvedHub(arg, err) {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	var held []string
	if dockerHolds(ctx, arg) {
		held = append(held, fmt.Sprintf("docker-daemon:%s (Docker holds %s)", arg, arg))
	}
	if containerdHolds(ctx, g, arg) {
		held = append(held, fmt.Sprintf("containerd:%s (containerd holds it)", arg))
	}
	if len(held) == 0 {
		return err
	}
	return fmt.Errorf("%w\nhint: %s names Docker Hub, which did not resolve; did you mean %s? Images in Docker or containerd are named with the prefix (see `jbuild --help`)", err, arg, strings.Join(held, " or "))
}

// unresolvedHub: arg is a registry name that defaults to Docker Hub (no
// registry host written) and err is a DNS failure.
func unresolvedHub(arg string, err error) bool {
	r, perr := transport.Parse(arg)
	if perr != nil || r.Kind != transport.KindRegistry || r.Registry == nil {
		return false
	}
	first, _, _ := strings.Cut(arg, "/")
	if strings.ContainsAny(first, ".:") || first == "localhost" {
		return false // a registry host was written
	}
	var dns *net.DNSError
	return errors.As(err, &dns) || strings.Contains(err.Error(), "no such host")
}

func dockerHolds(ctx context.Context, name string) bool {
	cli, err := dockerclient.NewClientWithOpts(dockerclient.FromEnv, dockerclient.WithAPIVersionNegotiation())
	if err != nil {
		return false
	}
	defer cli.Close()
	_, err = cli.ImageInspect(ctx, name)
	return err == nil
}

func containerdHolds(ctx context.Context, g *globalFlags, name string) bool {
	o := storeOptions(g).Containerd
	addr, ns := firstNonEmpty(o.Address, transport.DefaultContainerdAddress), firstNonEmpty(o.Namespace, transport.DefaultContainerdNamespace)
	r, err := transport.Parse(name)
	if err != nil || r.Registry == nil {
		return false
	}
	full := r.Registry.Name() // docker.io/library/myapp:1, as containerd names it
	full = strings.Replace(full, "index.docker.io/", "docker.io/", 1)
	c, err := client.New(addr, client.WithTimeout(time.Second))
	if err != nil {
		return false
	}
	defer c.Close()
	_, err = c.GetImage(namespaces.WithNamespace(ctx, ns), full)
	return err == nil
}

// withLocalHint adds localHint to the error of a command whose first
// argument is the source image.
func withLocalHint(g *globalFlags, run func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := run(cmd, args)
		if err != nil && len(args) > 0 {
			err = localHint(cmd.Context(), g, args[0], err)
		}
		return err
	}
}
