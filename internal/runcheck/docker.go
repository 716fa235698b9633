package runcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// dockerContainer is a container started through the Docker Engine API.
type dockerContainer struct {
	cli  *client.Client
	id   string
	done chan struct{}
	code int
}

func dockerClient(host string) (*client.Client, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	return client.NewClientWithOpts(opts...)
}

func startDocker(ctx context.Context, s runSpec) (instance, error) {
	cli, err := dockerClient(s.DockerHost)
	if err != nil {
		return nil, fmt.Errorf("runcheck: docker client: %w", err)
	}
	user := s.User
	if user == "" {
		inspect, err := cli.ImageInspect(ctx, s.Image)
		if err != nil {
			cli.Close()
			return nil, fmt.Errorf("runcheck: image %s in Docker (%s): %w", s.Image, cli.DaemonHost(), err)
		}
		if inspect.Config != nil {
			user = inspect.Config.User
		}
	}
	hc := &container.HostConfig{
		NetworkMode:    "host",
		ReadonlyRootfs: s.ReadOnlyRoot,
	}
	if len(s.Volumes) > 0 {
		opt := strings.Join(tmpfsOptions(user, s.FSGroup), ",")
		hc.Tmpfs = map[string]string{}
		for _, v := range s.Volumes {
			hc.Tmpfs[v] = opt
		}
	}
	for _, g := range extraGroups(s.Options) {
		hc.GroupAdd = append(hc.GroupAdd, strconv.Itoa(g))
	}
	if s.NoNewPrivileges {
		hc.SecurityOpt = append(hc.SecurityOpt, "no-new-privileges")
	}
	if s.DropAllCapabilities {
		hc.CapDrop = []string{"ALL"}
	}
	if s.configFile != "" {
		// Docker mounts in path order, so a file below a tmpfs volume is
		// mounted after it and stays visible.
		hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeBind, Source: s.configFile, Target: s.Config.Path})
	}
	cfg := &container.Config{Image: s.Image, User: s.User, Env: s.Env}
	created, err := cli.ContainerCreate(ctx, cfg, hc, nil, nil, "")
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("runcheck: creating a container of %s in Docker (%s): %w", s.Image, cli.DaemonHost(), err)
	}
	c := &dockerContainer{cli: cli, id: created.ID, done: make(chan struct{})}
	// Wait is registered before the start, so a container that exits at
	// once is seen.
	waitC, errC := cli.ContainerWait(context.WithoutCancel(ctx), c.id, container.WaitConditionNextExit)
	go func() {
		defer close(c.done)
		select {
		case r := <-waitC:
			c.code = int(r.StatusCode)
		case <-errC:
			c.code = -1
		}
	}()
	if err := cli.ContainerStart(ctx, c.id, container.StartOptions{}); err != nil {
		logs, _ := c.stop(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("runcheck: starting %s in Docker: %w%s", s.Image, err, logsSuffix(logs))
	}
	return c, nil
}

func (c *dockerContainer) exited() <-chan struct{} { return c.done }
func (c *dockerContainer) exitCode() int           { return c.code }

func (c *dockerContainer) stop(ctx context.Context) (string, error) {
	defer c.cli.Close()
	var errs []error
	if err := c.cli.ContainerKill(ctx, c.id, "KILL"); err != nil && !isNotRunning(err) {
		errs = append(errs, err)
	}
	var logs string
	if rc, err := c.cli.ContainerLogs(ctx, c.id, container.LogsOptions{ShowStdout: true, ShowStderr: true}); err == nil {
		var out bytes.Buffer
		stdcopy.StdCopy(&out, &out, rc)
		rc.Close()
		logs = out.String()
	}
	if err := c.cli.ContainerRemove(ctx, c.id, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
		errs = append(errs, fmt.Errorf("removing container %s: %w", c.id, err))
	}
	return logs, errors.Join(errs...)
}

// isNotRunning: killing a container that already exited is not an error.
func isNotRunning(err error) bool {
	return strings.Contains(err.Error(), "is not running")
}

func logsSuffix(logs string) string {
	if logs == "" {
		return ""
	}
	return "\ncontainer output:\n" + logs
}
