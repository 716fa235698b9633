package main

import (
	"archive/tar"
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// javaLikeWith is testenv's Java-like busybox image plus one layer of
// these headers.
func javaLikeWith(t *testing.T, hs ...*tar.Header) v1.Image {
	t.Helper()
	base, err := testenv.JavaLikeImage(v1.Platform{OS: "linux", Architecture: runtime.GOARCH})
	if err != nil {
		t.Fatal(err)
	}
	l := testenv.HeaderLayer(t, hs...)
	img, err := mutate.AppendLayers(base, l)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// runIn runs sh -c script in a container of image (no network) and
// returns what it printed.
func runIn(t *testing.T, host, image, script string) string {
	t.Helper()
	ctx := context.Background()
	cli := testenv.DockerClient(t, host)
	c, err := cli.ContainerCreate(ctx, &container.Config{Image: image, User: "0", Entrypoint: []string{"sh", "-c", script}},
		&container.HostConfig{NetworkMode: "none"}, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
	waitC, errC := cli.ContainerWait(ctx, c.ID, container.WaitConditionNextExit)
	if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-waitC:
	case err := <-errC:
		t.Fatal(err)
	}
	rc, err := cli.ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out bytes.Buffer
	stdcopy.StdCopy(&out, &out, rc)
	return out.String()
}

// Docker Engine's overlay2 store gives a folder a layer carries the
// layer's owner and mode: the wrapped image run by dockerd must still show
// the base's /opt/jennifer (app user, 0700) and the base's /opt symlink.
func TestWrapDockerDaemonKeepsBaseFolders(t *testing.T) {
	host := testenv.Dockerd(t)
	t.Setenv("DOCKER_HOST", host)
	agent := sampleAgentDir(t)

	testenv.LoadImage(t, host, "jbuild-keep/owned:1", javaLikeWith(t,
		&tar.Header{Name: "opt/", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: "opt/jennifer/", Typeflag: tar.TypeDir, Mode: 0o700, Uid: 1000, Gid: 1000}))
	if r := jbuild(t, "wrap", "docker-daemon:jbuild-keep/owned:1", "--agent", agent, "--server-address", "10.0.0.5"); r.code != 0 {
		t.Fatalf("wrap: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	out := runIn(t, host, "jbuild-keep/owned:1-jennifer", "stat -c '%u:%g %a' /opt/jennifer; test -f /opt/jennifer/agent.java/jennifer.jar && echo agent-ok")
	if !strings.Contains(out, "1000:1000 700") || !strings.Contains(out, "agent-ok") {
		t.Errorf("in a container of the wrapped image: %q; want /opt/jennifer 1000:1000 700 and the agent", out)
	}

	testenv.LoadImage(t, host, "jbuild-keep/linked:1", javaLikeWith(t,
		&tar.Header{Name: "srv/", Typeflag: tar.TypeDir, Mode: 0o755},
		&tar.Header{Name: "srv/app/", Typeflag: tar.TypeDir, Mode: 0o755, Uid: 1000, Gid: 1000},
		&tar.Header{Name: "opt", Typeflag: tar.TypeSymlink, Linkname: "srv", Mode: 0o777}))
	r := jbuild(t, "wrap", "docker-daemon:jbuild-keep/linked:1", "--agent", agent, "--server-address", "10.0.0.5")
	if r.code != 0 {
		t.Fatalf("wrap: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "/opt is a symlink to /srv") {
		t.Errorf("the summary does not say the agent moved: %s", r.stderr)
	}
	out = runIn(t, host, "jbuild-keep/linked:1-jennifer", "readlink /opt; test -d /opt/app && echo app-ok; test -f /srv/jennifer/agent.java/jennifer.jar && echo agent-ok; echo \"$JAVA_TOOL_OPTIONS\"")
	for _, want := range []string{"srv\n", "app-ok", "agent-ok", "-javaagent:/srv/jennifer/agent.java/jennifer.jar"} {
		if !strings.Contains(out, want) {
			t.Errorf("in a container of the wrapped image: %q lacks %q", out, want)
		}
	}
}
