package testenv

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	crand "crypto/rand"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Spec describes an image made of random layers.
type Spec struct {
	// Layers random layers of LayerSize bytes of file content each.
	Layers    int
	LayerSize int64
	// Base layers go below the random ones (e.g. a rootfs with /etc/passwd).
	Base []v1.Layer
	// Platform defaults to linux/amd64.
	Platform *v1.Platform
	// OCI selects OCI media types; the default is Docker schema 2, as
	// `docker push` writes.
	OCI bool
	// Config edits the config (Env, User, Entrypoint, Labels...) before the
	// layers are added; RootFS and History are filled in by the layers.
	Config func(*v1.ConfigFile)
}

// RandomLayer returns a gzip layer holding one file of size random bytes
// (not compressible, so the blob is about size bytes). It compresses with
// gzip.BestSpeed once and keeps the result in memory.
func RandomLayer(size int64, oci bool) (v1.Layer, error) {
	var seed [32]byte
	crand.Read(seed[:])
	rng := rand.NewChaCha8(seed)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{
		Name:     fmt.Sprintf("random/%x.bin", seed[:8]),
		Mode:     0o644,
		Size:     size,
		Typeflag: tar.TypeReg,
		ModTime:  time.Unix(0, 0),
		Format:   tar.FormatPAX,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := io.CopyN(tw, rng, size); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	mt := types.DockerLayer
	if oci {
		mt = types.OCILayer
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithCompressionLevel(gzip.BestSpeed), tarball.WithCompressedCaching, tarball.WithMediaType(mt))
}

// RandomImage builds an image from s.
func RandomImage(s Spec) (v1.Image, error) {
	plat := v1.Platform{OS: "linux", Architecture: "amd64"}
	if s.Platform != nil {
		plat = *s.Platform
	}
	cfg := &v1.ConfigFile{
		Architecture: plat.Architecture,
		OS:           plat.OS,
		Variant:      plat.Variant,
		Created:      v1.Time{Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		Config: v1.Config{
			Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
	if s.Config != nil {
		s.Config(cfg)
	}
	cfg.RootFS = v1.RootFS{Type: "layers"}
	cfg.History = nil

	base := empty.Image
	if s.OCI {
		base = mutate.MediaType(base, types.OCIManifestSchema1)
		base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	}
	img, err := mutate.ConfigFile(base, cfg)
	if err != nil {
		return nil, err
	}
	layers := append([]v1.Layer(nil), s.Base...)
	for i := 0; i < s.Layers; i++ {
		l, err := RandomLayer(s.LayerSize, s.OCI)
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	adds := make([]mutate.Addendum, len(layers))
	for i, l := range layers {
		adds[i] = mutate.Addendum{Layer: l, History: v1.History{
			Created:   cfg.Created,
			CreatedBy: fmt.Sprintf("testenv layer %d", i),
		}}
	}
	return mutate.Append(img, adds...)
}

// DefaultPlatforms are the platforms of RandomIndex when none are given.
var DefaultPlatforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64", Variant: "v8"},
}

// RandomIndex builds an OCI image index with one image per platform (each
// built from s with that platform; s.Config runs for each, and can read
// the config's Architecture to differ per platform).
func RandomIndex(s Spec, platforms ...v1.Platform) (v1.ImageIndex, error) {
	if len(platforms) == 0 {
		platforms = DefaultPlatforms
	}
	var adds []mutate.IndexAddendum
	for _, p := range platforms {
		ps := s
		ps.Platform = &p
		ps.OCI = true
		img, err := RandomImage(ps)
		if err != nil {
			return nil, fmt.Errorf("building %s image: %w", p, err)
		}
		adds = append(adds, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &p},
		})
	}
	return mutate.AppendManifests(empty.Index, adds...), nil
}

// PushRandomImage pushes an image of layers random layers of sizeEach bytes
// to ref, with cfgMutator (may be nil) applied to its config, and returns
// its manifest digest.
func PushRandomImage(t testing.TB, ref string, layers int, sizeEach int64, cfgMutator func(*v1.ConfigFile)) v1.Hash {
	t.Helper()
	img, err := RandomImage(Spec{Layers: layers, LayerSize: sizeEach, Config: cfgMutator})
	if err != nil {
		t.Fatalf("building random image: %v", err)
	}
	return PushImage(t, ref, img)
}

// PushIndex pushes a multi-platform index (linux/amd64 and linux/arm64/v8
// unless platforms are given) to ref and returns its digest. cfgMutator
// (may be nil) is called once per platform with that platform and its config.
func PushIndex(t testing.TB, ref string, layers int, sizeEach int64, cfgMutator func(v1.Platform, *v1.ConfigFile), platforms ...v1.Platform) v1.Hash {
	t.Helper()
	s := Spec{Layers: layers, LayerSize: sizeEach}
	if cfgMutator != nil {
		s.Config = func(c *v1.ConfigFile) {
			cfgMutator(v1.Platform{OS: c.OS, Architecture: c.Architecture, Variant: c.Variant}, c)
		}
	}
	idx, err := RandomIndex(s, platforms...)
	if err != nil {
		t.Fatalf("building random index: %v", err)
	}
	r := parseRef(t, ref)
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatalf("pushing index %s: %v", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// PushImage pushes img to ref and returns its manifest digest.
func PushImage(t testing.TB, ref string, img v1.Image) v1.Hash {
	t.Helper()
	r := parseRef(t, ref)
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func parseRef(t testing.TB, ref string) name.Reference {
	t.Helper()
	// Loopback registries speak plain http; name.Insecure makes that
	// explicit for any host.
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatalf("parsing %q: %v", ref, err)
	}
	return r
}
