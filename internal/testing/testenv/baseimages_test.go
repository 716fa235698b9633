package testenv

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
)

var hostPlatform = v1.Platform{OS: "linux", Architecture: runtime.GOARCH}

// layerFiles lists the tar headers of every layer of img by path.
func layerFiles(t *testing.T, img v1.Image) map[string]*tar.Header {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]*tar.Header{}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			files[strings.TrimSuffix(h.Name, "/")] = h
		}
		rc.Close()
	}
	return files
}

// requireBusybox skips the test without busybox-static, or fails it in CI.
func requireBusybox(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(BusyboxBinary); err != nil {
		if InCI() {
			t.Fatalf("%v; %s", err, BusyboxHint)
		}
		t.Skipf("%v; %s", err, BusyboxHint)
	}
}

func TestBusyboxImage(t *testing.T) {
	requireBusybox(t)
	img, err := BusyboxImage(hostPlatform)
	if err != nil {
		t.Fatal(err)
	}
	files := layerFiles(t, img)
	if h := files["bin/busybox"]; h == nil || h.Mode != 0o755 || h.Size < 1<<20 {
		t.Errorf("bin/busybox: %+v", h)
	}
	if h := files["bin/sh"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "busybox" {
		t.Errorf("bin/sh: %+v", h)
	}
	if h := files["tmp"]; h == nil || h.Typeflag != tar.TypeDir || h.Mode != 0o1777 {
		t.Errorf("tmp: %+v", h)
	}
	if h := files["home/app"]; h == nil || h.Uid != 1000 || h.Gid != 1000 {
		t.Errorf("home/app: %+v", h)
	}
	for _, f := range []string{"etc/passwd", "etc/group", "usr/bin/env", "bin/id", "bin/cat"} {
		if files[f] == nil {
			t.Errorf("missing %s", f)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Architecture != runtime.GOARCH || len(cf.Config.Cmd) != 1 || cf.Config.Cmd[0] != "sh" || len(cf.Config.Env) != 1 {
		t.Errorf("config: arch %s cmd %v env %v", cf.Architecture, cf.Config.Cmd, cf.Config.Env)
	}

	again, _ := BusyboxImage(hostPlatform)
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("two busybox images differ: %s %s", d1, d2)
	}
	if _, err := BusyboxImage(v1.Platform{OS: "linux", Architecture: "s390x"}); err == nil {
		t.Error("busybox image for s390x: want an error")
	}
}

func TestJavaLikeImage(t *testing.T) {
	requireBusybox(t)
	img, err := JavaLikeImage(hostPlatform)
	if err != nil {
		t.Fatal(err)
	}
	files := layerFiles(t, img)
	if h := files[JavaLikeHome[1:]+"/bin/java"]; h == nil || h.Mode != 0o755 {
		t.Errorf("java: %+v", h)
	}
	if files["bin/sh"] == nil {
		t.Error("no bin/sh from the busybox base")
	}
	cf, _ := img.ConfigFile()
	env := strings.Join(cf.Config.Env, " ")
	if !strings.Contains(env, "JAVA_HOME="+JavaLikeHome) || !strings.Contains(env, "JAVA_TOOL_OPTIONS=-Xmx256m") {
		t.Errorf("env: %v", cf.Config.Env)
	}
	if strings.Join(cf.Config.Entrypoint, " ") != "java -jar /app/app.jar" || cf.Config.Cmd != nil {
		t.Errorf("entrypoint %v cmd %v", cf.Config.Entrypoint, cf.Config.Cmd)
	}
	if len(cf.History) != 2 || len(cf.RootFS.DiffIDs) != 2 {
		t.Errorf("history %d diffids %d, want 2 and 2", len(cf.History), len(cf.RootFS.DiffIDs))
	}
}

// TestBaseImagesRunOnBuildkitd runs a RUN step as the image's app user in
// the Java-like image on the shared buildkitd.
func TestBaseImagesRunOnBuildkitd(t *testing.T) {
	addr := Buildkitd(t)
	ref := Registry(t) + "/testenv/javalike:1"
	PushJavaLike(t, ref)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := bkclient.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	run := llb.Image(ref).Run(
		llb.Args([]string{"/bin/sh", "-c", "id > /tmp/out; java -version 2>> /tmp/out; ls -ld /tmp >> /tmp/out"}),
		llb.AddEnv("PATH", "/usr/local/bin:/usr/bin:/bin"),
		llb.AddEnv("JAVA_TOOL_OPTIONS", "-Xmx256m"),
		llb.User("app"),
	)
	def, err := llb.Scratch().File(llb.Copy(run.Root(), "/tmp/out", "/out")).Marshal(ctx, llb.LinuxAmd64)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := c.Solve(ctx, def, bkclient.SolveOpt{
		Exports: []bkclient.ExportEntry{{Type: bkclient.ExporterLocal, OutputDir: dir}},
	}, nil); err != nil {
		t.Fatalf("solve: %v", err)
	}
	out, err := os.ReadFile(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"uid=1000(app) gid=1000(app)", "Picked up JAVA_TOOL_OPTIONS: -Xmx256m", `openjdk version "17`, "drwxrwxrwt"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("RUN output lacks %q:\n%s", want, out)
		}
	}
}
