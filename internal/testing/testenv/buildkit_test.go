package testenv

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
)

func TestBuildkitdSolveAndPush(t *testing.T) {
	addr := Buildkitd(t)
	if again := Buildkitd(t); again != addr {
		t.Fatalf("second Buildkitd call started another daemon: %s vs %s", again, addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := bkclient.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	ws, err := c.ListWorkers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].Labels["org.mobyproject.buildkit.worker.executor"] != "oci" ||
		ws[0].Labels["org.mobyproject.buildkit.worker.snapshotter"] != "overlayfs" {
		t.Errorf("workers: %+v, want one OCI worker on overlayfs", ws)
	}

	def, err := llb.Scratch().File(llb.Mkfile("/x", 0o644, []byte("hi"))).Marshal(ctx, llb.LinuxAmd64)
	if err != nil {
		t.Fatal(err)
	}
	ref := Registry(t) + "/testenv/llb:1"
	_, err = c.Solve(ctx, def, bkclient.SolveOpt{
		Exports: []bkclient.ExportEntry{{
			Type:  bkclient.ExporterImage,
			Attrs: map[string]string{"name": ref, "push": "true", "registry.insecure": "true"},
		}},
	}, nil)
	if err != nil {
		t.Fatalf("solve: %v\nbuildkitd log:\n%s", err, BuildkitdLog(addr, 4096))
	}
	if log := BuildkitdLog(addr, 1<<20); !strings.Contains(log, "running server on") {
		t.Errorf("buildkitd log lacks its start line:\n%s", log)
	}

	img := Image(t, ref)
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("pushed image layers: %d, %v; want 1", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "/") == "x" {
			b, _ := io.ReadAll(tr)
			found = string(b) == "hi"
		}
	}
	if !found {
		t.Errorf("layer of %s has no /x with content \"hi\"", ref)
	}
}

func TestStartBuildkitdStopCleansUp(t *testing.T) {
	RequireIntegration(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	addr, stop, err := StartBuildkitd("")
	if err != nil {
		t.Fatal(err)
	}
	dir := strings.TrimSuffix(strings.TrimPrefix(addr, "unix://"), "/buildkitd.sock")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("state dir: %v", err)
	}
	stop()
	stop() // idempotent
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("state dir %s still there after stop: %v", dir, err)
	}
	if m := mountsUnder(dir); len(m) != 0 {
		t.Errorf("mounts left under %s: %v", dir, m)
	}
	if err := pingBuildkitd(addr); err == nil {
		t.Errorf("buildkitd %s still answers after stop", addr)
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	for in, want := range map[string]string{
		`/tmp/a`:         "/tmp/a",
		`/tmp/a\040b`:    "/tmp/a b",
		`/tmp/x\134y`:    `/tmp/x\y`,
		`/tmp/trailing\`: `/tmp/trailing\`,
	} {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("unescapeMountinfo(%q) = %q, want %q", in, got, want)
		}
	}
}
