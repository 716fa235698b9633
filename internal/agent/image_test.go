package agent

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/jbuild-dev/jbuild/internal/agentlayer"
)

const testRoot = "/opt/jennifer/agent.java"

// agentImage pushes-in-memory the bundle b as an agent image for p.
func agentImage(t *testing.T, b *Bundle, p v1.Platform, cache string) v1.Image {
	t.Helper()
	entries, err := EntriesForImage(b, testRoot)
	if err != nil {
		t.Fatal(err)
	}
	l, err := agentlayer.Build(entries, b.Open, agentlayer.Options{CacheDir: cache, ContentDigest: b.Digest})
	if err != nil {
		t.Fatal(err)
	}
	img, err := ImageFromLayer(l, p, map[string]string{LabelRoot: testRoot, LabelAgent: "agent.java", LabelVersion: "5.6.4.2", LabelProfile: "jennifer-java"})
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(img); err != nil {
		t.Fatalf("agent image does not validate: %v", err)
	}
	return img
}

func resolver(refs map[string]any) func(context.Context, string) (v1.ImageIndex, v1.Image, error) {
	return func(_ context.Context, ref string) (v1.ImageIndex, v1.Image, error) {
		switch x := refs[ref].(type) {
		case v1.ImageIndex:
			return x, nil, nil
		case v1.Image:
			return nil, x, nil
		}
		return nil, nil, io.ErrUnexpectedEOF
	}
}

func TestImageSource(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	tmp := t.TempDir()
	writeTree(t, filepath.Join(tmp, "tree"), sampleAgent())
	opts := Options{CacheDir: filepath.Join(tmp, "cache")}
	dirBundle := bundleOf(t, filepath.Join(tmp, "tree"), opts)
	amd64 := v1.Platform{OS: "linux", Architecture: "amd64"}
	img := agentImage(t, dirBundle, amd64, tmp)

	// The same agent gives the same image digest on every run.
	img2 := agentImage(t, bundleOf(t, filepath.Join(tmp, "tree"), opts), amd64, t.TempDir())
	d1, _ := img.Digest()
	d2, _ := img2.Digest()
	if d1 != d2 {
		t.Errorf("agent image digests differ: %s %s", d1, d2)
	}
	if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %s", mt)
	}
	cf, _ := img.ConfigFile()
	if cf.Created.Unix() != 0 || len(cf.History) != 1 || cf.History[0].Created.Unix() != 0 || cf.Architecture != "amd64" || cf.Config.Labels[LabelRoot] != testRoot {
		t.Errorf("config %+v", cf)
	}

	// Single image: platform-independent, same files and digest as the folder.
	arm := v1.Platform{OS: "linux", Architecture: "arm64"}
	files := sampleAgent()
	files[7].body = "\x7fELF arm64"
	writeTree(t, filepath.Join(tmp, "arm"), files)
	armBundle := bundleOf(t, filepath.Join(tmp, "arm"), opts)
	armImg := agentImage(t, armBundle, arm, tmp)
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &amd64}},
		mutate.IndexAddendum{Add: armImg, Descriptor: v1.Descriptor{Platform: &arm}},
		// An attestation manifest, as BuildKit adds them: not a platform.
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"}}},
	)
	opts.ResolveImage = resolver(map[string]any{"reg.example/agents/java:5.6": img, "reg.example/agents/dotnet:5.6": idx})

	b := bundleOf(t, "reg.example/agents/java:5.6", opts)
	if b.Digest != dirBundle.Digest || describe(t, b) != describe(t, dirBundle) {
		t.Errorf("image bundle differs from the folder:\n%s\nwant\n%s", describe(t, b), describe(t, dirBundle))
	}
	if b.Version != "5.6.4.2" || b.Name != "agent.java" || b.Source != "reg.example/agents/java:5.6" {
		t.Errorf("name %q version %q source %q", b.Name, b.Version, b.Source)
	}
	// Second Open reads the unpacked layer from the cache.
	if b := bundleOf(t, "reg.example/agents/java:5.6", opts); b.Digest != dirBundle.Digest {
		t.Errorf("cached image bundle digest %s", b.Digest)
	}

	// Index: per-platform bundles.
	ctx := context.Background()
	src, err := Open(ctx, "reg.example/agents/dotnet:5.6", opts)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := src.Platforms(ctx)
	if err != nil || len(ps) != 2 || ps[0].String() != "linux/amd64" || ps[1].String() != "linux/arm64" {
		t.Fatalf("platforms %v, %v", ps, err)
	}
	armv8 := v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
	ab, err := src.Bundle(ctx, &armv8)
	if err != nil || ab.Digest != armBundle.Digest {
		t.Errorf("arm64 bundle %v, %v; want digest %s", ab, err, armBundle.Digest)
	}
	xb, err := src.Bundle(ctx, &amd64)
	if err != nil || xb.Digest != dirBundle.Digest {
		t.Errorf("amd64 bundle: %v", err)
	}
	_, err = src.Bundle(ctx, &v1.Platform{OS: "linux", Architecture: "s390x"})
	if err == nil || !strings.Contains(err.Error(), "linux/s390x") || !strings.Contains(err.Error(), "available: linux/amd64, linux/arm64") {
		t.Errorf("missing platform: %v", err)
	}
	if _, err := src.Bundle(ctx, nil); err == nil || !strings.Contains(err.Error(), "choose a platform") {
		t.Errorf("nil platform on an index: %v", err)
	}
}

func TestImageSourceRejects(t *testing.T) {
	tmp := t.TempDir()
	layerOf := func(files []tfile) v1.Layer {
		data := makeTar(t, files, false)
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	imageOf := func(l v1.Layer, labels map[string]string) v1.Image {
		img, err := mutate.AppendLayers(empty.Image, l)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := img.ConfigFile()
		cf = cf.DeepCopy()
		cf.Config.Labels = labels
		img, _ = mutate.ConfigFile(img, cf)
		return img
	}
	good := []tfile{{name: "opt/jennifer/agent.java/jennifer.jar", typ: tar.TypeReg, mode: 0o644, body: "jar"}}
	evil := append(good, tfile{name: "opt/jennifer/agent.java/etc", typ: tar.TypeSymlink, link: "../../../../etc"})
	hardEscape := append(good, tfile{name: "opt/jennifer/agent.java/passwd", typ: tar.TypeLink, link: "etc/passwd"})
	root := map[string]string{LabelRoot: testRoot}
	twoLayers, _ := mutate.AppendLayers(imageOf(layerOf(good), root), layerOf(good))
	opts := Options{CacheDir: filepath.Join(tmp, "cache"), ResolveImage: resolver(map[string]any{
		"nolabel":    imageOf(layerOf(good), nil),
		"evil":       imageOf(layerOf(evil), root),
		"hardlink":   imageOf(layerOf(hardEscape), root),
		"empty":      imageOf(layerOf(good), map[string]string{LabelRoot: "/opt/elsewhere"}),
		"two-layers": twoLayers,
	})}
	for ref, want := range map[string]string{
		"nolabel":    "not a jbuild agent image",
		"evil":       `"etc": symlink to "../../../../etc" points outside`,
		"hardlink":   `hard link to "etc/passwd" points outside`,
		"empty":      "no files below /opt/elsewhere",
		"two-layers": "has 2 layers",
		"missing":    "as an image reference",
	} {
		src, err := Open(context.Background(), ref, opts)
		if err == nil {
			_, err = src.Bundle(context.Background(), nil)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", ref, err, want)
		}
	}
	if got := listFiles(t, filepath.Join(tmp, "cache")); len(got) != 1 { // only the "empty" image, which is safe
		t.Errorf("cache after rejected images: %v", got)
	}
	if _, err := ImageFromLayer(layerOf(good), v1.Platform{OS: "linux", Architecture: "amd64"}, nil); err == nil {
		t.Error("ImageFromLayer without a root label")
	}
}
