package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/jbuild-dev/jbuild/internal/atomicfile"
)

// KindDockerArchive is a `docker save` archive (docker-archive:FILE[:NAME[:TAG]]).
const KindDockerArchive Kind = "docker-archive"

var dockerArchiveKind = storeKind{
	KindInfo: KindInfo{
		Kind: KindDockerArchive, Form: "docker-archive:FILE[:NAME:TAG]", Help: "what `docker save` writes",
		Examples: []string{"docker-archive:app.tar:myapp:1.2", "docker-archive:/tmp/app.tar"},
	},
	refs: dockerArchiveRefs{},
	open: func(r Ref, _ Options) (Store, error) { return &dockerArchiveStore{ref: r}, nil },
}

// dockerArchiveStore is a `docker save` archive
// (`docker-archive:FILE[:NAME:TAG]`): manifest.json naming each image by
// its RepoTags, configs and layer tars. Reads are lazy (ggcr's tarball
// reader seeks into FILE). A write replaces FILE through a temp file and a
// rename; the new archive holds the written image and every other tagged
// image FILE held, so writing app:1-jennifer next to app:1 keeps app:1.
// Untagged images of an existing archive are dropped, and keep is ignored:
// like the Docker daemon, an archive names images by tag only. An archive
// records no media types: an OCI image is read back with Docker schema 2
// media types (same config and layers, another manifest digest).
type dockerArchiveStore struct {
	ref Ref
}

var _ Store = (*dockerArchiveStore)(nil)

func (s *dockerArchiveStore) Ref() Ref     { return s.ref }
func (s *dockerArchiveStore) Close() error { return nil }

// manifest reads FILE's manifest.json; a missing FILE is ErrNotFound.
func (s *dockerArchiveStore) manifest() (tarball.Manifest, error) {
	if _, err := os.Stat(s.ref.Path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %s does not exist: %w", s.ref, s.ref.Path, ErrNotFound)
	}
	m, err := tarball.LoadManifest(s.opener())
	if err != nil {
		return nil, fmt.Errorf("reading %s: not a docker-archive (as `docker save` writes): %w", s.ref, err)
	}
	return m, nil
}

func (s *dockerArchiveStore) opener() tarball.Opener {
	path := s.ref.Path
	return func() (io.ReadCloser, error) { return os.Open(path) }
}

// tags lists every RepoTag of m, sorted.
func archiveTags(m tarball.Manifest) []string {
	var tags []string
	for _, d := range m {
		tags = append(tags, d.RepoTags...)
	}
	sort.Strings(tags)
	return tags
}

// hasTag reports whether m names t (compared as normalized names:
// myapp:1 is docker.io/library/myapp:1).
func hasTag(m tarball.Manifest, t name.Tag) bool {
	for _, d := range m {
		for _, rt := range d.RepoTags {
			if got, err := name.NewTag(rt, name.WeakValidation); err == nil && got.Name() == t.Name() {
				return true
			}
		}
	}
	return false
}

func (s *dockerArchiveStore) Get(ctx context.Context) (*Artifact, error) {
	m, err := s.manifest()
	if err != nil {
		return nil, err
	}
	var tag *name.Tag
	switch t, ok := s.ref.Image.(name.Tag); {
	case ok:
		if !hasTag(m, t) {
			return nil, fmt.Errorf("reading %s: the archive has no image %s (tags: %s): %w", s.ref, t, strings.Join(archiveTags(m), ", "), ErrNotFound)
		}
		tag = &t
	case len(m) != 1:
		return nil, fmt.Errorf("reading %s: the archive holds %d images (tags: %s): name one as docker-archive:%s:NAME:TAG", s.ref, len(m), strings.Join(archiveTags(m), ", "), s.ref.Path)
	}
	img, err := tarball.Image(s.opener(), tag)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.ref, err)
	}
	if err := checkLoadedConfig(s.ref.String(), img); err != nil {
		return nil, err
	}
	return &Artifact{Image: img, Origin: s.ref}, nil
}

// GetDigest looks through the archive's tagged images for one whose
// manifest digest is h (computing a digest may compress the layers of a
// `docker save` archive, which stores them uncompressed).
func (s *dockerArchiveStore) GetDigest(ctx context.Context, h v1.Hash) (*Artifact, error) {
	m, err := s.manifest()
	if err != nil {
		return nil, err
	}
	for _, rt := range archiveTags(m) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t, err := name.NewTag(rt, name.WeakValidation)
		if err != nil {
			continue
		}
		img, err := tarball.Image(s.opener(), &t)
		if err != nil {
			return nil, fmt.Errorf("reading %s from %s: %w", rt, s.ref.Path, err)
		}
		if d, err := img.Digest(); err == nil && d == h {
			return &Artifact{Image: img, Origin: s.ref}, nil
		}
	}
	return nil, fmt.Errorf("docker-archive %s has no image with manifest %s (an archive names images by tag only): %w", s.ref.Path, h, ErrNotFound)
}

// Put writes a under the reference's tag into a new archive that also
// holds FILE's other tagged images, and renames it over FILE. keep is
// ignored (see dockerArchiveStore).
func (s *dockerArchiveStore) Put(ctx context.Context, a *Artifact, keep ...*Artifact) error {
	t, ok := s.ref.Image.(name.Tag)
	if !ok {
		return fmt.Errorf("writing %s: a docker-archive target needs a name: write docker-archive:%s:NAME:TAG", s.ref, s.ref.Path)
	}
	img, err := singleImage(a)
	if err != nil {
		return fmt.Errorf("writing %s: a docker-archive holds single-platform images: %w", s.ref, err)
	}
	refs := map[name.Reference]v1.Image{t: img}
	if m, err := s.manifest(); err == nil {
		for _, rt := range archiveTags(m) {
			other, err := name.NewTag(rt, name.WeakValidation)
			if err != nil || other.Name() == t.Name() {
				continue // the tag moves to the new image
			}
			img, err := tarball.Image(s.opener(), &other)
			if err != nil {
				return fmt.Errorf("writing %s: keeping %s: %w", s.ref, rt, err)
			}
			refs[other] = img
		}
	} else if !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("writing %s: %w", s.ref, err)
	}
	if err := writeArchiveAtomically(s.ref.Path, refs); err != nil {
		return fmt.Errorf("writing %s: %w", s.ref, err)
	}
	return nil
}

// writeArchiveAtomically writes a docker-archive into a temp file beside
// dst and renames it over dst.
func writeArchiveAtomically(dst string, refs map[name.Reference]v1.Image) error {
	return atomicfile.Write(dst, 0o644, func(w io.Writer) error { return tarball.MultiRefWrite(refs, w) })
}
