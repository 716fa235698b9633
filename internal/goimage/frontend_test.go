package goimage_test

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"io"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/jbuild-dev/jbuild/internal/goimage"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// echoFrontend is a minimal gateway frontend, so these tests do not depend
// on the state of cmd/jbuild-frontend.
const echoFrontend = "./internal/goimage/testdata/echofrontend"

// buildEcho cross-compiles the echo frontend (a minute per platform with a
// cold Go build cache, so it is skipped with -short).
func buildEcho(t *testing.T, platforms ...v1.Platform) v1.ImageIndex {
	t.Helper()
	if testing.Short() {
		t.Skip("compiles the frontend: skipped with -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	idx, err := goimage.Frontend.Build(ctx, goimage.Options{
		Dir:       testenv.RepoRoot(),
		Package:   echoFrontend,
		Platforms: platforms,
		Version:   "test-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func TestBuildIndex(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	idx := buildEcho(t) // default platforms
	if mt, _ := idx.MediaType(); mt != types.OCIImageIndex {
		t.Errorf("index media type %s", mt)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	if len(im.Manifests) != 2 {
		t.Fatalf("index has %d manifests, want 2", len(im.Manifests))
	}
	for i, d := range im.Manifests {
		want := goimage.DefaultPlatforms[i]
		if d.Platform == nil || d.Platform.OS != want.OS || d.Platform.Architecture != want.Architecture {
			t.Errorf("manifest %d platform %v, want %v", i, d.Platform, want)
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Architecture != want.Architecture || cf.OS != "linux" {
			t.Errorf("%s: config platform %s/%s", want, cf.OS, cf.Architecture)
		}
		if !cf.Created.Time.Equal(time.Unix(0, 0)) {
			t.Errorf("%s: created %s, want the epoch", want, cf.Created)
		}
		if len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != "/bin/jbuild-frontend" {
			t.Errorf("%s: entrypoint %v", want, cf.Config.Entrypoint)
		}
		for k, v := range map[string]string{
			"moby.buildkit.frontend.network.none": "true",
			"moby.buildkit.frontend.caps":         "moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts",
			"org.opencontainers.image.title":      "jbuild-frontend",
			"org.opencontainers.image.version":    "test-1",
		} {
			if got := cf.Config.Labels[k]; got != v {
				t.Errorf("%s: label %s=%q, want %q", want, k, got, v)
			}
		}
		hdr, bin := entry(t, img, "bin/jbuild-frontend")
		if hdr == nil {
			t.Errorf("%s: no bin/jbuild-frontend in the layer", want)
			continue
		}
		if hdr.Mode != 0o755 || hdr.Uid != 0 || hdr.Gid != 0 || hdr.Typeflag != tar.TypeReg || !hdr.ModTime.Equal(time.Unix(0, 0)) {
			t.Errorf("%s: bin/jbuild-frontend header mode %o uid %d gid %d type %c mtime %s", want, hdr.Mode, hdr.Uid, hdr.Gid, hdr.Typeflag, hdr.ModTime)
		}
		f, err := elf.NewFile(bytes.NewReader(bin))
		if err != nil {
			t.Fatalf("%s: binary is not ELF: %v", want, err)
		}
		if f.Machine != machines[want.Architecture] || f.Type != elf.ET_EXEC {
			t.Errorf("%s: ELF machine %s type %s", want, f.Machine, f.Type)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s: binary is dynamically linked (CGO_ENABLED=0 expected)", want)
			}
		}
	}
}

func TestBuildReproducible(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	a, _ := buildEcho(t).Digest()
	b, _ := buildEcho(t).Digest()
	if a != b {
		t.Errorf("two builds of the same source: %s and %s", a, b)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	c := buildEcho(t)
	if d, _ := c.Digest(); d == a {
		t.Errorf("SOURCE_DATE_EPOCH did not change the digest")
	}
	im, _ := c.IndexManifest()
	img, _ := c.Image(im.Manifests[0].Digest)
	if cf, _ := img.ConfigFile(); !cf.Created.Time.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("created %s, want SOURCE_DATE_EPOCH", cf.Created)
	}
}

func TestBuildErrors(t *testing.T) {
	ctx := context.Background()
	for name, o := range map[string]goimage.Options{
		"version with space": {Version: "a b"},
		"windows":            {Platforms: []v1.Platform{{OS: "windows", Architecture: "amd64"}}},
		"missing package":    {Dir: testenv.RepoRoot(), Package: "./internal/goimage/testdata/nope"},
	} {
		if _, err := goimage.Frontend.Build(ctx, o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// entry returns the header and content of name in img's layers.
func entry(t *testing.T, img v1.Image, name string) (*tar.Header, []byte) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
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
			if h.Name == name {
				b, err := io.ReadAll(tr)
				rc.Close()
				if err != nil {
					t.Fatal(err)
				}
				return h, b
			}
		}
		rc.Close()
	}
	return nil, nil
}
