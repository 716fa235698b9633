package transport

import (
	"context"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// ErrNotFound is wrapped by Store.Get when the reference names nothing.
var ErrNotFound = errors.New("image not found")

// Artifact is what a reference names: exactly one of Image or Index is set.
type Artifact struct {
	Image v1.Image
	Index v1.ImageIndex
	// Origin is the store it was read from (zero when built in memory). A
	// registry store uses it to know, without asking, which manifests and
	// blobs a repository already holds.
	Origin Ref
}

// Digest of the artifact's manifest.
func (a *Artifact) Digest() (v1.Hash, error) {
	if a.Index != nil {
		return a.Index.Digest()
	}
	return a.Image.Digest()
}

// MediaType of the artifact's manifest.
func (a *Artifact) MediaType() (types.MediaType, error) {
	if a.Index != nil {
		return a.Index.MediaType()
	}
	return a.Image.MediaType()
}

// Store reads and writes the images one reference names.
type Store interface {
	// Get returns what the reference names; errors.Is(err, ErrNotFound)
	// when it names nothing.
	Get(ctx context.Context) (*Artifact, error)
	// GetDigest returns an artifact kept in the same repository or layout
	// under its digest (used by unwrap and agent upgrades to find the base).
	GetDigest(ctx context.Context, h v1.Hash) (*Artifact, error)
	// Put writes every blob, then the artifacts in keep by digest (never
	// tagged), then the artifact under the reference, last.
	Put(ctx context.Context, a *Artifact, keep ...*Artifact) error
	// Ref is the reference this store was opened for.
	Ref() Ref
	// Close releases temporary files (an extracted archive).
	Close() error
}

// Options configure store access.
type Options struct {
	// Registry holds registry access (auth, transport, progress).
	Registry RegistryOptions
	// Docker is Docker daemon access (docker-daemon:).
	Docker DockerOptions
	// Containerd is containerd access (containerd:).
	Containerd ContainerdOptions
}

// Open returns the Store for ref.
func Open(ref Ref, opts Options) (Store, error) {
	if k := kindOf(ref.Kind); k != nil {
		return k.open(ref, opts)
	}
	return nil, fmt.Errorf("image reference %s: unknown transport %q", ref, ref.Kind)
}

// PlatformImage is one image of an artifact: the artifact's only image
// (Desc nil), or an index entry for a real platform.
type PlatformImage struct {
	Desc  *v1.Descriptor
	Image v1.Image
}

// PlatformImages lists the images of a: the image itself, or the index's
// entries for real platforms (IsPlatformImage), in index order. Index
// images are opened lazily: nothing is read until they are used.
func (a *Artifact) PlatformImages() ([]PlatformImage, error) {
	if a.Image != nil {
		return []PlatformImage{{Image: a.Image}}, nil
	}
	im, err := a.Index.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []PlatformImage
	for i, d := range im.Manifests {
		if !IsPlatformImage(d) {
			continue
		}
		img, err := a.Index.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		out = append(out, PlatformImage{Desc: &im.Manifests[i], Image: img})
	}
	return out, nil
}

// FirstLabels are the config labels of a's image, or of its index's first
// platform image (nil when it has none). jbuild's labels say the same on
// every platform of its outputs, so the first one speaks for all.
func (a *Artifact) FirstLabels() (map[string]string, error) {
	pis, err := a.PlatformImages()
	if err != nil || len(pis) == 0 {
		return nil, err
	}
	cf, err := pis[0].Image.ConfigFile()
	if err != nil {
		return nil, err
	}
	return cf.Config.Labels, nil
}

// IsPlatformImage reports whether an index entry is an image for a real
// platform: BuildKit's attestation manifests (platform unknown/unknown)
// and entries without a platform describe other images and are skipped
// by everything that looks at an index's platforms.
func IsPlatformImage(d v1.Descriptor) bool {
	return d.Platform != nil && d.Platform.OS != "unknown" && d.MediaType.IsImage()
}
