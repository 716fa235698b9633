package wrap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// This file rebuilds the base of an output whose base was never stored (a
// Dockerfile build through the frontend, buildplan.LabelRestore) from the
// output itself: the layers below jbuild's, the config as it was before.
//
// The result is meant to be the very image the same Dockerfile builds
// without the agent (JENNIFER_DISABLE=1), digest for digest, so unwrap gives
// back what a build would have, and an upgrade records a base anyone can
// rebuild. That holds because every byte is made the way BuildKit's image
// exporter makes it: the config's top-level keys re-marshalled from a map
// (sorted), the env and labels inside "config" through the same struct the
// Dockerfile frontend marshals, the history and rootfs through the OCI
// types, and the manifest indented as the exporter writes it. Nothing is
// re-compressed: the layers are the output's own blobs.

// inImageBase rebuilds the base of a (an image, or an index of them, whose
// images carry LabelRestore).
func inImageBase(a *transport.Artifact) (*transport.Artifact, error) {
	if a.Image != nil {
		img, err := restoredImage(a.Image)
		if err != nil {
			return nil, err
		}
		return &transport.Artifact{Image: img}, nil
	}
	idx, err := restoredIndex(a.Index)
	if err != nil {
		return nil, err
	}
	return &transport.Artifact{Index: idx}, nil
}

// inImageClaim reports whether a says its base is rebuilt from it: its
// image's labels (or its first platform image's, for an index, which the
// frontend does not annotate) carry LabelRestore and no stored base.
func inImageClaim(a *transport.Artifact) (bool, error) {
	l, err := a.FirstLabels()
	if err != nil {
		return false, err
	}
	return l[buildplan.LabelVersion] != "" && l[buildplan.LabelBaseDigest] == "" && l[buildplan.LabelRestore] != "", nil
}

// rebuiltBase checks that a, which claims an in-image base, is jbuild's
// output and returns that base and its digest.
func rebuiltBase(a *transport.Artifact) (*transport.Artifact, v1.Hash, error) {
	if err := checkOutput(a, nil); err != nil {
		return nil, v1.Hash{}, err
	}
	base, err := inImageBase(a)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	if err := checkOutput(a, base); err != nil {
		return nil, v1.Hash{}, err
	}
	h, err := base.Digest()
	return base, h, err
}

// InImageBase returns the base of one image that carries
// buildplan.LabelRestore, rebuilt from it.
func InImageBase(img v1.Image) (v1.Image, error) { return restoredImage(img) }

func restoredImage(out v1.Image) (v1.Image, error) {
	rawCfg, err := out.RawConfigFile()
	if err != nil {
		return nil, err
	}
	cf, err := out.ConfigFile()
	if err != nil {
		return nil, err
	}
	r, err := buildplan.ParseRestore(cf.Config.Labels)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("it has no %s label", buildplan.LabelRestore)
	}
	cfg, err := restoredConfig(rawCfg, r)
	if err != nil {
		return nil, fmt.Errorf("rebuilding the config before jbuild: %w", err)
	}
	rawMf, err := out.RawManifest()
	if err != nil {
		return nil, err
	}
	var mf ocispec.Manifest
	if err := json.Unmarshal(rawMf, &mf); err != nil {
		return nil, err
	}
	if len(mf.Layers) < r.Layers {
		return nil, fmt.Errorf("its manifest lists %d layers, fewer than the %d jbuild added", len(mf.Layers), r.Layers)
	}
	mf.Layers = mf.Layers[:len(mf.Layers)-r.Layers]
	h, size, err := v1.SHA256(bytes.NewReader(cfg))
	if err != nil {
		return nil, err
	}
	mf.Config.Digest, mf.Config.Size = digest.Digest(h.String()), size
	mfBytes, err := marshalLike(rawMf, mf)
	if err != nil {
		return nil, err
	}
	mt, err := out.MediaType()
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&rawImage{out: out, config: cfg, manifest: mfBytes, mediaType: mt})
}

// restoredConfig undoes the apply step on a config's raw bytes, keeping
// every other byte as the image exporter wrote it.
func restoredConfig(raw []byte, r *buildplan.Restore) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if c, ok := m["config"]; ok {
		var conf dockerspec.DockerOCIImageConfig
		if err := json.Unmarshal(c, &conf); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		conf.Env = r.RestoreEnv()
		conf.Labels = r.RestoreLabels(conf.Labels)
		if err := setJSON(m, "config", conf); err != nil {
			return nil, err
		}
	}
	var history []ocispec.History
	if err := json.Unmarshal(m["history"], &history); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	history, err := r.RestoreHistory(history)
	if err != nil {
		return nil, err
	}
	if err := setJSON(m, "history", history); err != nil {
		return nil, err
	}
	var rootfs ocispec.RootFS
	if err := json.Unmarshal(m["rootfs"], &rootfs); err != nil {
		return nil, fmt.Errorf("rootfs: %w", err)
	}
	if len(rootfs.DiffIDs) < r.Layers {
		return nil, fmt.Errorf("rootfs lists %d layers, fewer than the %d jbuild added", len(rootfs.DiffIDs), r.Layers)
	}
	rootfs.DiffIDs = rootfs.DiffIDs[:len(rootfs.DiffIDs)-r.Layers]
	if err := setJSON(m, "rootfs", rootfs); err != nil {
		return nil, err
	}
	if r.NoCreated {
		// The exporter dates a config that has no date by its newest
		// dated history entry.
		var created *time.Time
		for _, h := range history {
			if h.Created != nil {
				created = h.Created
			}
		}
		if err := setJSON(m, "created", &created); err != nil {
			return nil, err
		}
	}
	return json.Marshal(m)
}

func setJSON(m map[string]json.RawMessage, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	m[key] = b
	return nil
}

// marshalLike marshals v indented the way BuildKit writes manifests and
// indexes when like is, compactly otherwise.
func marshalLike(like []byte, v any) ([]byte, error) {
	if bytes.Contains(like, []byte("\n")) {
		return json.MarshalIndent(v, "", "  ")
	}
	return json.Marshal(v)
}

// rawImage is an image made of exact bytes over another image's blobs.
type rawImage struct {
	out       layerSource
	config    []byte
	manifest  []byte
	mediaType types.MediaType
}

func (i *rawImage) RawConfigFile() ([]byte, error)      { return i.config, nil }
func (i *rawImage) RawManifest() ([]byte, error)        { return i.manifest, nil }
func (i *rawImage) MediaType() (types.MediaType, error) { return i.mediaType, nil }

func (i *rawImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	return i.out.LayerByDigest(h)
}

var _ partial.CompressedImageCore = (*rawImage)(nil)

// layerSource is what rawImage needs of the image it was made from.
type layerSource interface {
	LayerByDigest(v1.Hash) (v1.Layer, error)
}

// restoredIndex rebuilds an index of outputs: each platform image
// restored, the attestation manifests dropped (they describe the
// monitored images, not these).
func restoredIndex(out v1.ImageIndex) (v1.ImageIndex, error) {
	raw, err := out.RawManifest()
	if err != nil {
		return nil, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(raw, &idx); err != nil {
		return nil, err
	}
	images := map[v1.Hash]v1.Image{}
	kept := idx.Manifests[:0:0]
	for _, d := range idx.Manifests {
		if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			continue
		}
		h, err := v1.NewHash(d.Digest.String())
		if err != nil {
			return nil, err
		}
		child, err := out.Image(h)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", d.Digest, err)
		}
		img, err := restoredImage(child)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", platformName(d.Platform), err)
		}
		nh, err := img.Digest()
		if err != nil {
			return nil, err
		}
		size, err := img.Size()
		if err != nil {
			return nil, err
		}
		d.Digest, d.Size = digest.Digest(nh.String()), size
		images[nh] = img
		kept = append(kept, d)
	}
	idx.Manifests = kept
	b, err := marshalLike(raw, idx)
	if err != nil {
		return nil, err
	}
	mt, err := out.MediaType()
	if err != nil {
		return nil, err
	}
	return &rawIndex{manifest: b, mediaType: mt, images: images}, nil
}

func platformName(p *ocispec.Platform) string {
	if p == nil {
		return "an image"
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// rawIndex is an index made of exact bytes over images held in memory.
type rawIndex struct {
	manifest  []byte
	mediaType types.MediaType
	images    map[v1.Hash]v1.Image
}

func (i *rawIndex) MediaType() (types.MediaType, error) { return i.mediaType, nil }
func (i *rawIndex) RawManifest() ([]byte, error)        { return i.manifest, nil }
func (i *rawIndex) Digest() (v1.Hash, error)            { return partial.Digest(i) }
func (i *rawIndex) Size() (int64, error)                { return partial.Size(i) }

func (i *rawIndex) IndexManifest() (*v1.IndexManifest, error) {
	return v1.ParseIndexManifest(bytes.NewReader(i.manifest))
}

func (i *rawIndex) Image(h v1.Hash) (v1.Image, error) {
	if img, ok := i.images[h]; ok {
		return img, nil
	}
	return nil, fmt.Errorf("image %s is not in the rebuilt index", h)
}

func (i *rawIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	return nil, fmt.Errorf("index %s is not in the rebuilt index", h)
}

var _ v1.ImageIndex = (*rawIndex)(nil)
