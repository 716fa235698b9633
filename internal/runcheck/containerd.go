package runcheck

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/defaults"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/jbuild-dev/jbuild/internal/syncbuf"
)

// containerdContainer is a container and its task in containerd.
type containerdContainer struct {
	client *containerd.Client
	ns     string
	c      containerd.Container
	task   containerd.Task
	out    *syncbuf.Buffer
	done   chan struct{}
	code   int
}

func startContainerd(ctx context.Context, s runSpec) (_ instance, err error) {
	addr := s.ContainerdAddress
	if addr == "" {
		addr = defaults.DefaultAddress
	}
	client, err := containerd.New(addr, containerd.WithTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("runcheck: connecting to containerd at %s: %w", addr, err)
	}
	cc := &containerdContainer{client: client, ns: s.Namespace, out: &syncbuf.Buffer{}, done: make(chan struct{})}
	ctx = namespaces.WithNamespace(ctx, s.Namespace)
	defer func() {
		if err != nil {
			cc.stop(context.WithoutCancel(ctx))
		}
	}()

	img, err := client.GetImage(ctx, s.Image)
	if err != nil {
		return nil, fmt.Errorf("runcheck: image %s in containerd namespace %s: %w", s.Image, s.Namespace, err)
	}
	snapshotter := defaults.DefaultSnapshotter
	if ok, err := img.IsUnpacked(ctx, snapshotter); err != nil || !ok {
		if err := img.Unpack(ctx, snapshotter); err != nil {
			return nil, fmt.Errorf("runcheck: unpacking %s for %s: %w", s.Image, snapshotter, err)
		}
	}

	id := "jbuild-runcheck-" + randomHex(6)
	specOpts := []oci.SpecOpts{
		oci.WithImageConfig(img),
		oci.WithHostNamespace(specs.NetworkNamespace),
		oci.WithHostHostsFile,
		oci.WithHostResolvconf,
	}
	if s.User != "" {
		specOpts = append(specOpts, oci.WithUser(s.User))
	}
	if len(s.Env) > 0 {
		specOpts = append(specOpts, oci.WithEnv(s.Env))
	}
	if s.ReadOnlyRoot {
		specOpts = append(specOpts, oci.WithRootFSReadonly())
	}
	if s.NoNewPrivileges {
		specOpts = append(specOpts, oci.WithNoNewPrivileges)
	}
	if s.DropAllCapabilities {
		specOpts = append(specOpts, oci.WithCapabilities(nil))
	}
	// Last: the user is resolved by now (WithImageConfig reads the image's
	// /etc/passwd for a user name), so the tmpfs volumes can be owned by it.
	specOpts = append(specOpts, withVolumes(s))

	cc.c, err = client.NewContainer(ctx, id,
		containerd.WithImage(img),
		containerd.WithSnapshotter(snapshotter),
		containerd.WithNewSnapshot(id, img),
		containerd.WithNewSpec(specOpts...),
	)
	if err != nil {
		return nil, fmt.Errorf("runcheck: creating a container of %s in containerd: %w", s.Image, err)
	}
	cc.task, err = cc.c.NewTask(ctx, cio.NewCreator(cio.WithStreams(nil, cc.out, cc.out)))
	if err != nil {
		return nil, fmt.Errorf("runcheck: creating the task of %s: %w", s.Image, err)
	}
	// Wait is set up before the start, so a task that exits at once is seen.
	statusC, err := cc.task.Wait(context.WithoutCancel(ctx))
	if err != nil {
		return nil, err
	}
	go func() {
		st := <-statusC
		cc.code = int(st.ExitCode())
		close(cc.done)
	}()
	if err := cc.task.Start(ctx); err != nil {
		return nil, fmt.Errorf("runcheck: starting %s in containerd: %w%s", s.Image, err, logsSuffix(cc.out.String()))
	}
	return cc, nil
}

// withVolumes adds a tmpfs for every volume, owned by the process user, and
// the config file bind mount, parents before children.
func withVolumes(s runSpec) oci.SpecOpts {
	return func(ctx context.Context, client oci.Client, c *containers.Container, spec *oci.Spec) error {
		var ms []specs.Mount
		user := fmt.Sprintf("%d:%d", spec.Process.User.UID, spec.Process.User.GID)
		for _, v := range s.Volumes {
			ms = append(ms, specs.Mount{
				Type: "tmpfs", Source: "tmpfs", Destination: v,
				Options: append([]string{"nosuid", "nodev"}, tmpfsOptions(user, s.FSGroup)...),
			})
		}
		for _, g := range extraGroups(s.Options) {
			if !slices.Contains(spec.Process.User.AdditionalGids, uint32(g)) {
				spec.Process.User.AdditionalGids = append(spec.Process.User.AdditionalGids, uint32(g))
			}
		}
		if s.configFile != "" {
			ms = append(ms, specs.Mount{Type: "bind", Source: s.configFile, Destination: s.Config.Path, Options: []string{"rbind", "rw"}})
		}
		sort.SliceStable(ms, func(i, j int) bool {
			return strings.Count(ms[i].Destination, "/") < strings.Count(ms[j].Destination, "/")
		})
		return oci.WithMounts(ms)(ctx, client, c, spec)
	}
}

func (c *containerdContainer) exited() <-chan struct{} { return c.done }
func (c *containerdContainer) exitCode() int           { return c.code }

func (c *containerdContainer) stop(ctx context.Context) (string, error) {
	defer c.client.Close()
	ctx = namespaces.WithNamespace(ctx, c.ns)
	var errs []error
	if c.task != nil {
		select {
		case <-c.done:
		default:
			if err := c.task.Kill(ctx, syscall.SIGKILL); err != nil {
				errs = append(errs, fmt.Errorf("killing the task: %w", err))
			}
			select {
			case <-c.done:
			case <-time.After(10 * time.Second):
			}
		}
		// The output is complete only once the IO copy has finished.
		if io := c.task.IO(); io != nil {
			io.Wait()
		}
		if _, err := c.task.Delete(ctx, containerd.WithProcessKill); err != nil {
			errs = append(errs, fmt.Errorf("deleting the task: %w", err))
		}
	}
	if c.c != nil {
		if err := c.c.Delete(ctx, containerd.WithSnapshotCleanup); err != nil {
			errs = append(errs, fmt.Errorf("deleting container %s: %w", c.c.ID(), err))
		}
	}
	return c.out.String(), errors.Join(errs...)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
