package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// contentReader presents manifests in a containerd content store as ggcr
// images and indexes; blobs are read when ggcr asks for them. ggcr's
// interfaces take no context, so the one of the Get that made the reader
// is kept for every later read.
type contentReader struct {
	ctx context.Context
	cs  content.Store
}

func (c *contentReader) read(d ocispec.Descriptor) ([]byte, error) {
	b, err := content.ReadBlob(c.ctx, c.cs, d)
	if err != nil {
		return nil, fmt.Errorf("reading %s from the content store: %w", d.Digest, err)
	}
	return b, nil
}

// present returns d, or, when d is an index some of whose manifests are
// missing from the content store (kubelet and `ctr pull` fetch one
// platform), the manifest of this machine's platform.
func (c *contentReader) present(d ocispec.Descriptor) (ocispec.Descriptor, error) {
	if !images.IsIndexType(d.MediaType) {
		return d, nil
	}
	raw, err := c.read(d)
	if err != nil {
		return d, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return d, fmt.Errorf("index %s: %w", d.Digest, err)
	}
	have := map[digest.Digest]bool{}
	missing := false
	for _, m := range idx.Manifests {
		_, err := c.cs.Info(c.ctx, m.Digest)
		switch {
		case err == nil:
			have[m.Digest] = true
		case errdefs.IsNotFound(err):
			missing = true
		default:
			return d, err
		}
	}
	if !missing {
		return d, nil
	}
	want := platforms.Default()
	var best *ocispec.Descriptor
	for i, m := range idx.Manifests {
		if !have[m.Digest] || m.Platform == nil || !want.Match(*m.Platform) {
			continue
		}
		if best == nil || want.Less(*m.Platform, *best.Platform) {
			best = &idx.Manifests[i]
		}
	}
	if best == nil {
		return d, fmt.Errorf("index %s: containerd holds only some of its platforms, and not %s (pull every platform with `ctr images pull --all-platforms`, or wrap from the registry)", d.Digest, platforms.DefaultString())
	}
	return *best, nil
}

// artifact reads the manifest or index d.
func (c *contentReader) artifact(d ocispec.Descriptor) (*Artifact, error) {
	switch {
	case images.IsIndexType(d.MediaType):
		idx, err := c.index(d)
		if err != nil {
			return nil, err
		}
		return &Artifact{Index: idx}, nil
	case images.IsManifestType(d.MediaType):
		img, err := c.image(d)
		if err != nil {
			return nil, err
		}
		return &Artifact{Image: img}, nil
	}
	return nil, fmt.Errorf("%s has media type %s, not an image", d.Digest, d.MediaType)
}

// artifactByDigest reads a manifest or index known by digest only; its
// media type comes from the manifest itself.
func (c *contentReader) artifactByDigest(dg digest.Digest) (*Artifact, error) {
	info, err := c.cs.Info(c.ctx, dg)
	if err != nil {
		return nil, err
	}
	d := ocispec.Descriptor{Digest: dg, Size: info.Size}
	raw, err := c.read(d)
	if err != nil {
		return nil, err
	}
	var probe struct {
		MediaType string          `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
		Config    json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("%s is not a manifest: %w", dg, err)
	}
	d.MediaType = probe.MediaType
	if d.MediaType == "" && probe.Manifests != nil {
		d.MediaType = ocispec.MediaTypeImageIndex
	} else if d.MediaType == "" && probe.Config != nil {
		d.MediaType = ocispec.MediaTypeImageManifest
	}
	return c.artifact(d)
}

func (c *contentReader) image(d ocispec.Descriptor) (v1.Image, error) {
	raw, err := c.read(d)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	return partial.CompressedToImage(&contentImage{c: c, mt: types.MediaType(d.MediaType), raw: raw, m: m})
}

func (c *contentReader) index(d ocispec.Descriptor) (v1.ImageIndex, error) {
	raw, err := c.read(d)
	if err != nil {
		return nil, err
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", d.Digest, err)
	}
	h, err := v1.NewHash(d.Digest.String())
	if err != nil {
		return nil, err
	}
	return &contentIndex{c: c, mt: types.MediaType(d.MediaType), digest: h, raw: raw, im: im}, nil
}

// contentImage is partial.CompressedImageCore over the content store.
type contentImage struct {
	c   *contentReader
	mt  types.MediaType
	raw []byte
	m   *v1.Manifest
}

func (i *contentImage) MediaType() (types.MediaType, error) { return i.mt, nil }
func (i *contentImage) RawManifest() ([]byte, error)        { return i.raw, nil }

func (i *contentImage) RawConfigFile() ([]byte, error) {
	if err := checkConfigSize("config "+i.m.Config.Digest.String(), i.m.Config.Size); err != nil {
		return nil, err
	}
	return i.c.read(ociDescriptor(i.m.Config))
}

func (i *contentImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, l := range i.m.Layers {
		if l.Digest == h {
			return &contentLayer{c: i.c, d: l}, nil
		}
	}
	if i.m.Config.Digest == h {
		return &contentLayer{c: i.c, d: i.m.Config}, nil
	}
	return nil, fmt.Errorf("blob %s is not part of this image", h)
}

// contentLayer is a blob read from the content store on demand.
type contentLayer struct {
	c *contentReader
	d v1.Descriptor
}

func (l *contentLayer) Digest() (v1.Hash, error)            { return l.d.Digest, nil }
func (l *contentLayer) Size() (int64, error)                { return l.d.Size, nil }
func (l *contentLayer) MediaType() (types.MediaType, error) { return l.d.MediaType, nil }

func (l *contentLayer) Compressed() (io.ReadCloser, error) {
	ra, err := l.c.cs.ReaderAt(l.c.ctx, ociDescriptor(l.d))
	if err != nil {
		return nil, fmt.Errorf("reading layer %s from the content store: %w", l.d.Digest, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(ra, 0, ra.Size()), ra}, nil
}

// contentIndex is a v1.ImageIndex over the content store.
type contentIndex struct {
	c      *contentReader
	mt     types.MediaType
	digest v1.Hash
	raw    []byte
	im     *v1.IndexManifest
}

var _ v1.ImageIndex = (*contentIndex)(nil)

func (x *contentIndex) MediaType() (types.MediaType, error)       { return x.mt, nil }
func (x *contentIndex) Digest() (v1.Hash, error)                  { return x.digest, nil }
func (x *contentIndex) Size() (int64, error)                      { return int64(len(x.raw)), nil }
func (x *contentIndex) IndexManifest() (*v1.IndexManifest, error) { return x.im.DeepCopy(), nil }
func (x *contentIndex) RawManifest() ([]byte, error)              { return x.raw, nil }

func (x *contentIndex) child(h v1.Hash) (ocispec.Descriptor, error) {
	for _, d := range x.im.Manifests {
		if d.Digest == h {
			return ociDescriptor(d), nil
		}
	}
	return ocispec.Descriptor{}, fmt.Errorf("index %s has no manifest %s", x.digest, h)
}

func (x *contentIndex) Image(h v1.Hash) (v1.Image, error) {
	d, err := x.child(h)
	if err != nil {
		return nil, err
	}
	return x.c.image(d)
}

func (x *contentIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	d, err := x.child(h)
	if err != nil {
		return nil, err
	}
	return x.c.index(d)
}

func ociDescriptor(d v1.Descriptor) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: string(d.MediaType), Digest: digest.Digest(d.Digest.String()), Size: d.Size}
}

// Labels by which containerd's garbage collector follows references from
// a manifest to its config and layers, and from an index to its manifests.
const gcRefContent = "containerd.io/gc.ref.content"

// contentWriter writes artifacts into a content store, children first,
// skipping blobs it already holds.
type contentWriter struct {
	ctx context.Context
	cs  content.Store
}

// write writes a and returns its descriptor; extra labels go on its
// manifest.
func (w *contentWriter) write(a *Artifact, extra map[string]string) (ocispec.Descriptor, error) {
	if a.Index != nil {
		return w.writeIndex(a.Index, extra)
	}
	return w.writeImage(a.Image, extra)
}

func (w *contentWriter) writeImage(img v1.Image, extra map[string]string) (ocispec.Descriptor, error) {
	m, err := img.Manifest()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	labels := map[string]string{gcRefContent + ".config": m.Config.Digest.String()}
	for i, ld := range m.Layers {
		labels[fmt.Sprintf("%s.l.%d", gcRefContent, i)] = ld.Digest.String()
		l, err := img.LayerByDigest(ld.Digest)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		if err := w.blob(ociDescriptor(ld), l.Compressed, nil); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("layer %s: %w", ld.Digest, err)
		}
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := w.blob(ociDescriptor(m.Config), bytesOpener(cfg), nil); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("config %s: %w", m.Config.Digest, err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return w.manifest(mt, raw, labels, extra)
}

func (w *contentWriter) writeIndex(idx v1.ImageIndex, extra map[string]string) (ocispec.Descriptor, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	labels := map[string]string{}
	for i, d := range im.Manifests {
		labels[fmt.Sprintf("%s.m.%d", gcRefContent, i)] = d.Digest.String()
		switch {
		case d.MediaType.IsImage():
			img, err := idx.Image(d.Digest)
			if err != nil {
				return ocispec.Descriptor{}, err
			}
			_, err = w.writeImage(img, nil)
			if err != nil {
				return ocispec.Descriptor{}, err
			}
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return ocispec.Descriptor{}, err
			}
			if _, err := w.writeIndex(child, nil); err != nil {
				return ocispec.Descriptor{}, err
			}
		default:
			return ocispec.Descriptor{}, fmt.Errorf("index entry %s is a %s; only images can be written to containerd", d.Digest, d.MediaType)
		}
	}
	raw, err := idx.RawManifest()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	mt, err := idx.MediaType()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return w.manifest(mt, raw, labels, extra)
}

func (w *contentWriter) manifest(mt types.MediaType, raw []byte, labels, extra map[string]string) (ocispec.Descriptor, error) {
	maps.Copy(labels, extra)
	d := ocispec.Descriptor{MediaType: string(mt), Digest: digest.FromBytes(raw), Size: int64(len(raw))}
	if err := w.blob(d, bytesOpener(raw), labels); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	return d, nil
}

// blob writes d unless the store has it; labels are set either way.
func (w *contentWriter) blob(d ocispec.Descriptor, open func() (io.ReadCloser, error), labels map[string]string) error {
	_, err := w.cs.Info(w.ctx, d.Digest)
	switch {
	case err == nil:
		if len(labels) == 0 {
			return nil
		}
		var paths []string
		for k := range labels {
			paths = append(paths, "labels."+k)
		}
		_, err := w.cs.Update(w.ctx, content.Info{Digest: d.Digest, Labels: labels}, paths...)
		return err
	case !errdefs.IsNotFound(err):
		return err
	}
	rc, err := open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return content.WriteBlob(w.ctx, w.cs, "jbuild-"+d.Digest.String(), rc, d, content.WithLabels(labels))
}

func bytesOpener(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}
