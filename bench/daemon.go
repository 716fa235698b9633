package main

// The local Docker daemon (w1, w2), issue 14 item 2: `jbuild wrap
// docker-daemon:bench-app:1 -t docker-daemon:bench-app:jb` against the
// classic `docker build` of the hand-written Dockerfile that does the same
// job (FROM bench-app:1, COPY agent.java /opt/jennifer/agent.java, ENV
// JAVA_TOOL_OPTIONS=…), on the bench's dockerd (testenv: Debian's docker.io,
// overlay2), in the same runs. The image is the CI base (the sample rootfs
// + 4 RUN layers, USER app by name), loaded into the daemon once. Every run
// gets a new agent (one changed line in its config), which both ways copy:
// jbuild builds a new agent layer and settings, `docker build --no-cache`
// copies the folder again. The docker CLI is the one the tests use
// (testenv.DockerCLIBinary: $JBUILD_DOCKER_CLI, else docker in PATH), with
// DOCKER_BUILDKIT=0 for the classic builder. (The same comparison, with
// the daemon's BuildKit and dockerd 28.5 too, is the daemonbench test:
// docs/docker-daemon.md.)

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/client"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

const (
	sDaemon       = "w1"
	sDaemonDocker = "w2"
	daemonApp     = "bench-app:1"
)

type daemonState struct {
	cli     string // the docker CLI
	context string // the hand-written Dockerfile's build context
	skipped string // why there is no figure
}

// setupDaemonScenario loads the CI base into dockerd and writes the
// hand-written Dockerfile's context (not timed).
func (b *bench) setupDaemonScenario() error {
	if !b.haveDaemon() {
		b.dkr.skipped = "no daemon: " + b.ctrd.skipped
		return nil
	}
	cli, err := testenv.DockerCLIBinary()
	if err != nil {
		b.dkr.skipped = err.Error()
		logf("WARNING: docker-daemon figures skipped: %v", err)
		return nil
	}
	b.dkr.cli = cli
	r, err := name.ParseReference(b.ciBase, name.Insecure)
	if err != nil {
		return err
	}
	img, err := remote.Image(r)
	if err != nil {
		return err
	}
	tag, err := name.NewTag(daemonApp)
	if err != nil {
		return err
	}
	archive := filepath.Join(b.tmp, "daemon-app.tar")
	logf("loading %s into dockerd as %s", b.ciBase, daemonApp)
	if err := tarball.WriteToFile(archive, tag, img); err != nil {
		return err
	}
	defer os.Remove(archive)
	if err := dockerLoad(b.ctrd.dockerHost, archive); err != nil {
		return err
	}
	// The context holds the agent folder itself (a symlink would not be
	// followed by docker build): it is refreshed before each build.
	b.dkr.context = filepath.Join(b.tmp, "daemon-context")
	if err := os.MkdirAll(b.dkr.context, 0o755); err != nil {
		return err
	}
	dockerfile := "FROM " + daemonApp + "\nCOPY agent.java " + agentPath + "\nENV JAVA_TOOL_OPTIONS=\"" + javaOpts + "\"\n"
	return os.WriteFile(filepath.Join(b.dkr.context, "Dockerfile"), []byte(dockerfile), 0o644)
}

// daemonOnce runs w1 then w2, each with a new agent.
func (b *bench) daemonOnce(i int, record func(string, time.Duration)) error {
	if b.dkr.cli == "" {
		return nil
	}
	env := []string{"DOCKER_HOST=" + b.ctrd.dockerHost}
	if err := b.agent.setNonce(fmt.Sprintf("w1-%d", i)); err != nil {
		return err
	}
	d, _, err := b.measured(false, env, b.opts.jbuild, "wrap", "docker-daemon:"+daemonApp, "-t", "docker-daemon:bench-app:jb",
		"--agent", b.agent.dir, "--server-address", "127.0.0.1", "-q", "--force")
	if err != nil {
		return err
	}
	record(sDaemon, d)

	if err := b.agent.setNonce(fmt.Sprintf("w2-%d", i)); err != nil {
		return err
	}
	ctxAgent := filepath.Join(b.dkr.context, "agent.java")
	if err := os.RemoveAll(ctxAgent); err != nil {
		return err
	}
	if err := os.CopyFS(ctxAgent, os.DirFS(b.agent.dir)); err != nil {
		return err
	}
	b.cpuAcc = 0 // the copy above is not the peer's
	d, _, err = b.measured(false, append(env, "DOCKER_BUILDKIT=0"), b.dkr.cli, "build", "--no-cache", "-q", "-t", "bench-app:dk", b.dkr.context)
	if err != nil {
		return err
	}
	record(sDaemonDocker, d)
	if i < 0 {
		return b.checkDaemonOutputs()
	}
	return nil
}

// checkDaemonOutputs: after the warm-up, both images hold the agent and
// its activation, and jbuild's adds its two layers to the base's.
func (b *bench) checkDaemonOutputs() error {
	cli, err := client.NewClientWithOpts(client.WithHost(b.ctrd.dockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx := context.Background()
	base, err := cli.ImageInspect(ctx, daemonApp)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		ref   string
		added int
	}{{"bench-app:jb", 2}, {"bench-app:dk", 1}} {
		info, err := cli.ImageInspect(ctx, c.ref)
		if err != nil {
			return fmt.Errorf("output check: %w", err)
		}
		if got, want := len(info.RootFS.Layers), len(base.RootFS.Layers)+c.added; got != want {
			return fmt.Errorf("output check: %s has %d layers, want %d", c.ref, got, want)
		}
		if !strings.Contains(strings.Join(info.Config.Env, "\n"), "JAVA_TOOL_OPTIONS="+javaOpts) {
			return fmt.Errorf("output check: %s env %q lacks JAVA_TOOL_OPTIONS=%s", c.ref, info.Config.Env, javaOpts)
		}
		if info.Config.User != base.Config.User {
			return fmt.Errorf("output check: %s runs as %q, the base as %q", c.ref, info.Config.User, base.Config.User)
		}
	}
	logf("output check: bench-app:jb and bench-app:dk ok")
	return nil
}
