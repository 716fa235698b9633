package goimage_test

import (
	"archive/tar"
	"bytes"
	"context"
	"flag"
	"io"
	"path"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/moby/buildkit/client"

	"github.com/jbuild-dev/jbuild/internal/goimage"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// arm64 cross-compiles jbuild a second time (minutes on a cold cache), so
// only `make jbuild-image` and -selfimage.multiarch build it.
var multiarch = flag.Bool("selfimage.multiarch", false, "also build linux/arm64 (slow on a cold Go cache)")

func TestConfigAndState(t *testing.T) {
	p := v1.Platform{OS: "linux", Architecture: "arm64"}
	opts, err := goimage.Options{Version: "1.0"}.WithDefaults(goimage.Self)
	if err != nil {
		t.Fatal(err)
	}
	c := goimage.Self.Config(p, opts)
	if c.Config.User != "65532:65532" || c.Config.Entrypoint[0] != goimage.SelfBinary || c.Architecture != "arm64" || c.Config.Labels["org.opencontainers.image.version"] != "1.0" {
		t.Errorf("config %+v", c)
	}
	if _, err := goimage.Self.State(p, opts.Created).Marshal(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := goimage.Self.Push(context.Background(), nil, goimage.Registry{}, goimage.Options{}); err == nil {
		t.Error("no Ref: no error")
	}
}

func TestBuildPushRun(t *testing.T) {
	reg := testenv.RealRegistry(t)
	addr := testenv.Buildkitd(t)
	plats := []v1.Platform{{OS: "linux", Architecture: runtime.GOARCH}}
	if *multiarch {
		plats = goimage.DefaultPlatforms
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	c, err := client.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ref := reg + "/jbuild/jbuild:test"
	digest, err := goimage.Self.Push(ctx, c, goimage.Registry{Ref: ref, Insecure: true}, goimage.Options{
		Dir: testenv.RepoRoot(), Platforms: plats, Version: "v9.9.9-test",
	})
	if err != nil {
		t.Fatalf("%v\nbuildkitd log:\n%s", err, testenv.BuildkitdLog(addr, 40))
	}
	idx := testenv.Index(t, ref)
	d, _ := idx.Digest()
	if d.String() != digest {
		t.Errorf("pushed %s, registry has %s", digest, d)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != len(plats) {
		t.Fatalf("index has %d manifests, want %d", len(im.Manifests), len(plats))
	}
	var native v1.Image
	for _, m := range im.Manifests {
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Architecture != m.Platform.Architecture || cf.Config.User != "65532:65532" ||
			len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != "/usr/local/bin/jbuild" ||
			cf.Config.Labels["org.opencontainers.image.title"] != "jbuild" {
			t.Errorf("%s: config %+v", m.Platform, cf.Config)
		}
		checkFiles(t, img)
		if m.Platform.Architecture == runtime.GOARCH {
			native = img
		}
	}
	runInDocker(t, native)
}

// checkFiles: the binary is there and executable, passwd names 65532, and
// the only directory anyone but its owner can write is /tmp (sticky); the
// only one not owned by root is the jbuild user's home.
func checkFiles(t *testing.T, img v1.Image) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	seen := map[string]*tar.Header{}
	var passwd []byte
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := "/" + strings.TrimSuffix(strings.TrimPrefix(path.Clean("/"+h.Name), "/"), "/")
		seen[name] = h
		if name == "/etc/passwd" {
			passwd, _ = io.ReadAll(tr)
		}
		if h.Typeflag == tar.TypeDir {
			writableByOthers := h.Mode&0o022 != 0
			switch {
			case name == "/tmp":
				if h.Mode&0o7777 != 0o1777 || h.Uid != 0 {
					t.Errorf("/tmp: mode %o uid %d, want 1777 root", h.Mode, h.Uid)
				}
			case name == goimage.SelfHome:
				if h.Uid != goimage.SelfUID || writableByOthers {
					t.Errorf("%s: uid %d mode %o", name, h.Uid, h.Mode)
				}
			case writableByOthers || h.Uid != 0:
				t.Errorf("directory %s: uid %d mode %o: only /tmp and %s may be writable by a non-root user", name, h.Uid, h.Mode, goimage.SelfHome)
			}
		}
	}
	bin := seen[goimage.SelfBinary]
	if bin == nil || bin.Typeflag != tar.TypeReg || bin.Mode&0o111 != 0o111 || bin.Uid != 0 || bin.Mode&0o022 != 0 || bin.Size < 1<<20 {
		t.Errorf("%s: %+v", goimage.SelfBinary, bin)
	}
	if h := seen[goimage.CACertsPath]; h == nil || h.Size == 0 {
		t.Errorf("%s missing or empty", goimage.CACertsPath)
	}
	if !bytes.Contains(passwd, []byte("jbuild:x:65532:65532:")) {
		t.Errorf("/etc/passwd: %q", passwd)
	}
}

func runInDocker(t *testing.T, img v1.Image) {
	if img == nil {
		return
	}
	host := testenv.Dockerd(t)
	testenv.LoadImage(t, host, "jbuild-self:test", img)
	cli := testenv.DockerClient(t, host)
	ctx := context.Background()
	created, err := cli.ContainerCreate(ctx, &container.Config{Image: "jbuild-self:test", Cmd: []string{"--version"}}, &container.HostConfig{ReadonlyRootfs: true}, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer cli.ContainerRemove(ctx, created.ID, container.RemoveOptions{Force: true})
	waitC, errC := cli.ContainerWait(ctx, created.ID, container.WaitConditionNextExit)
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	var code int64
	select {
	case w := <-waitC:
		code = w.StatusCode
	case err := <-errC:
		t.Fatal(err)
	}
	var out bytes.Buffer
	if rc, err := cli.ContainerLogs(ctx, created.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true}); err == nil {
		stdcopy.StdCopy(&out, &out, rc)
		rc.Close()
	}
	if code != 0 || !strings.Contains(out.String(), "v9.9.9-test") {
		t.Errorf("docker run jbuild-self:test --version: exit %d, output %q", code, out.String())
	}
	inspect, err := cli.ContainerInspect(ctx, created.ID)
	if err == nil && inspect.Config.User != "65532:65532" {
		t.Errorf("container user %q", inspect.Config.User)
	}
}
