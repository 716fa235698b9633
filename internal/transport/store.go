package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

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

// atomicWriteFile writes data to path through a temp file in the same
// directory and a rename, so readers see the old file or the new one, never
// half of either.
func atomicWriteFile(path string, data []byte, perm os.FileMode) error {
	return atomicWrite(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// atomicWrite has write fill a temp file beside path, syncs it and renames
// it over path: the one way every store replaces a file (index.json, an
// oci-archive, a docker-archive). The file gets perm minus the umask, as a
// file created directly would: os.CreateTemp makes it 0600, and a chmod
// does not apply the umask itself.
func atomicWrite(path string, perm os.FileMode, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), perm&^umask()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// IsPlatformImage reports whether an index entry is an image for a real
// platform: BuildKit's attestation manifests (platform unknown/unknown)
// and entries without a platform describe other images and are skipped
// by everything that looks at an index's platforms.
func IsPlatformImage(d v1.Descriptor) bool {
	return d.Platform != nil && d.Platform.OS != "unknown" && d.MediaType.IsImage()
}
