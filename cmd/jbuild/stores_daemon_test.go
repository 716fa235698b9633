package main

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/testing/sampleimage"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

func TestWrapDockerDaemon(t *testing.T) {
	host := testenv.Dockerd(t)
	t.Setenv("DOCKER_HOST", host)
	img, err := sampleimage.JavaApp()
	if err != nil {
		t.Fatal(err)
	}
	testenv.LoadImage(t, host, "jbuild-cli/app:1", img)
	agent := sampleAgentDir(t)

	r := jbuild(t, "wrap", "docker-daemon:jbuild-cli/app:1", "--agent", agent, "--server-address", "10.0.0.5")
	if r.code != 0 {
		t.Fatalf("wrap: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The printed reference is one docker takes (docker run NAME:TAG).
	if r.stdout != "jbuild-cli/app:1-jennifer\n" {
		t.Errorf("stdout %q, want the daemon's name of the image", r.stdout)
	}
	cli := testenv.DockerClient(t, host)
	info, err := cli.ImageInspect(context.Background(), "jbuild-cli/app:1-jennifer")
	if err != nil {
		t.Fatalf("the wrapped image is not in the daemon: %v\n%s%s", err, r.stdout, r.stderr)
	}
	if !strings.Contains(strings.Join(info.Config.Env, "\n"), "-javaagent:") {
		t.Errorf("wrapped env has no -javaagent: %v", info.Config.Env)
	}
	if got := info.Config.Labels[buildplan.LabelBaseName]; got != "docker-daemon:jbuild-cli/app:1" {
		t.Errorf("base name label = %q", got)
	}

	// Again: the target is jbuild's output of this source (no --force).
	if r := jbuild(t, "wrap", "docker-daemon:jbuild-cli/app:1", "--agent", agent, "--server-address", "10.0.0.5"); r.code != 0 || !strings.Contains(r.stderr, "already up to date") {
		t.Fatalf("second wrap: exit %d, not up to date\n%s%s", r.code, r.stdout, r.stderr)
	}
	// unwrap finds the base through its name (the daemon keeps nothing by
	// digest) and writes exactly it.
	r = jbuild(t, "unwrap", "docker-daemon:jbuild-cli/app:1-jennifer", "-t", "docker-daemon:jbuild-cli/app:unwrapped")
	if r.code != 0 {
		t.Fatalf("unwrap: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	un, err := cli.ImageInspect(context.Background(), "jbuild-cli/app:unwrapped")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := img.ConfigName()
	if un.ID != cfg.String() {
		t.Errorf("unwrapped image ID %s, want the base's %s", un.ID, cfg)
	}

	// A daemon that is not running: what failed and what to do.
	t.Setenv("DOCKER_HOST", "unix://"+t.TempDir()+"/docker.sock")
	r = jbuild(t, "wrap", "docker-daemon:jbuild-cli/app:1", "--agent", agent, "--server-address", "10.0.0.5")
	if r.code == 0 || !strings.Contains(r.stderr, "is dockerd running? start it or set DOCKER_HOST") {
		t.Errorf("daemon down: exit %d\n%s", r.code, r.stderr)
	}
}

func TestWrapContainerd(t *testing.T) {
	addr := testenv.Containerd(t)
	img, err := sampleimage.JavaApp()
	if err != nil {
		t.Fatal(err)
	}
	testenv.ImportContainerd(t, addr, "k8s.io", "docker.io/jbuildcli/app:1", img)
	agent := sampleAgentDir(t)
	flags := []string{"--containerd-address", addr, "--containerd-namespace", "k8s.io"}

	r := jbuild(t, append([]string{"wrap", "containerd:jbuildcli/app:1", "--agent", agent, "--server-address", "10.0.0.5"}, flags...)...)
	if r.code != 0 {
		t.Fatalf("wrap: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	ctx := namespaces.WithNamespace(context.Background(), "k8s.io")
	ci, err := testenv.ContainerdClient(t, addr, "k8s.io").GetImage(ctx, "docker.io/jbuildcli/app:1-jennifer")
	if err != nil {
		t.Fatalf("the wrapped image is not in containerd: %v\n%s%s", err, r.stdout, r.stderr)
	}
	if ok, err := ci.IsUnpacked(ctx, "overlayfs"); err != nil || !ok {
		t.Errorf("wrapped image unpacked for overlayfs: %v, %v", ok, err)
	}
	// unwrap reads the base kept by digest next to the output.
	r = jbuild(t, append([]string{"unwrap", "containerd:jbuildcli/app:1-jennifer", "-t", "containerd:jbuildcli/app:unwrapped"}, flags...)...)
	if r.code != 0 {
		t.Fatalf("unwrap: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	un, err := testenv.ContainerdClient(t, addr, "k8s.io").GetImage(ctx, "docker.io/jbuildcli/app:unwrapped")
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := img.Digest(); un.Target().Digest.String() != d.String() {
		t.Errorf("unwrapped %s, want the base %s", un.Target().Digest, d)
	}

	// The environment variables ctr reads work too; a wrong namespace says
	// which exist.
	t.Setenv("CONTAINERD_ADDRESS", addr)
	t.Setenv("CONTAINERD_NAMESPACE", "k8s")
	r = jbuild(t, "wrap", "containerd:jbuildcli/app:1", "--agent", agent, "--server-address", "10.0.0.5")
	if r.code == 0 || !strings.Contains(r.stderr, `has no namespace "k8s"`) || !strings.Contains(r.stderr, "k8s.io") {
		t.Errorf("wrong namespace: exit %d\n%s", r.code, r.stderr)
	}
}

// `jbuild wrap NAME:TAG` right after `docker build -t NAME:TAG`: the name
// means Docker Hub, which does not resolve here; Docker holds it, so the
// error says to write docker-daemon:NAME:TAG (exit 1, nothing written).
func TestShortNameHeldByDocker(t *testing.T) {
	if _, err := net.LookupHost("index.docker.io"); err == nil {
		t.Skip("index.docker.io resolves here: the hint is for a name that does not resolve")
	}
	host := testenv.Dockerd(t)
	img, err := sampleimage.JavaApp()
	if err != nil {
		t.Fatal(err)
	}
	testenv.LoadImage(t, host, "jbuild-cli/local:1", img)
	r := jbuildEnv(t, []string{"DOCKER_HOST=" + host}, "wrap", "jbuild-cli/local:1", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5")
	if r.code != 1 || !strings.Contains(r.stderr, "did you mean docker-daemon:jbuild-cli/local:1 (Docker holds jbuild-cli/local:1)?") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and the docker-daemon: hint", r.code, r.stderr)
	}
	// A name Docker does not hold gets no hint.
	r = jbuildEnv(t, []string{"DOCKER_HOST=" + host}, "plan", "jbuild-cli/absent:1", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5")
	if r.code != 1 || strings.Contains(r.stderr, "did you mean") {
		t.Errorf("absent image: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}
