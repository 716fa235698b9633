package goimage_test

import (
	"archive/tar"
	"context"
	"runtime"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/client"

	"github.com/jbuild-dev/jbuild/internal/goimage"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// Either spec builds either way: Self in memory and Frontend on BuildKit
// hold the same files and config as the other way.

func TestSelfInMemory(t *testing.T) {
	testenv.RequireIntegration(t) // compiles jbuild
	t.Setenv("SOURCE_DATE_EPOCH", "")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	idx, err := goimage.Self.Build(ctx, goimage.Options{Dir: testenv.RepoRoot(), Platforms: []v1.Platform{p}, Version: "v9.9.9-test", Revision: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	img := onlyImage(t, idx)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "65532:65532" || len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != goimage.SelfBinary ||
		len(cf.Config.Cmd) != 1 || cf.Config.Cmd[0] != "--help" || cf.Config.WorkingDir != goimage.SelfHome ||
		cf.Config.Labels["org.opencontainers.image.revision"] != "abc" || cf.Config.Labels["org.opencontainers.image.created"] != "1970-01-01T00:00:00Z" ||
		len(cf.History) != 1 || len(cf.RootFS.DiffIDs) != 1 {
		t.Errorf("config %+v", cf)
	}
	checkFiles(t, img)
	if tmp, _ := entry(t, img, "tmp/"); tmp == nil || tmp.Typeflag != tar.TypeDir || tmp.Mode != 0o1777 {
		t.Errorf("tmp: %+v", tmp)
	}
	runInDocker(t, img)
}

func TestFrontendOnBuildkit(t *testing.T) {
	reg := testenv.RealRegistry(t)
	addr := testenv.Buildkitd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := client.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ref := reg + "/jbuild/echofrontend:buildkit"
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if _, err := goimage.Frontend.Push(ctx, c, goimage.Registry{Ref: ref, Insecure: true}, goimage.Options{
		Dir: testenv.RepoRoot(), Package: "./internal/goimage/testdata/echofrontend", Platforms: []v1.Platform{p}, Version: "test-1",
	}); err != nil {
		t.Fatalf("%v\nbuildkitd log:\n%s", err, testenv.BuildkitdLog(addr, 40))
	}
	img := onlyImage(t, testenv.Index(t, ref))
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "" || len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != goimage.FrontendBinary ||
		cf.Config.Labels[goimage.LabelNetworkNone] != "true" || cf.Config.Labels[goimage.LabelCaps] != goimage.Caps ||
		cf.Config.Labels["org.opencontainers.image.title"] != "jbuild-frontend" || cf.Config.Labels["org.opencontainers.image.version"] != "test-1" {
		t.Errorf("config %+v", cf.Config)
	}
	bin, _ := entry(t, img, "bin/jbuild-frontend")
	if bin == nil || bin.Typeflag != tar.TypeReg || bin.Mode != 0o755 || bin.Uid != 0 || bin.Gid != 0 || !bin.ModTime.Equal(time.Unix(0, 0)) {
		t.Errorf("bin/jbuild-frontend: %+v", bin)
	}
}

func onlyImage(t *testing.T, idx v1.ImageIndex) v1.Image {
	t.Helper()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index has %d manifests, want 1", len(im.Manifests))
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
