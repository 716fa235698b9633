package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/jbuild-dev/jbuild/internal/atomicfile"
)

// KindOCILayout is an OCI image layout directory (oci:DIR[:TAG]).
const KindOCILayout Kind = "oci"

var layoutKind = storeKind{
	KindInfo: KindInfo{
		Kind: KindOCILayout, Form: "oci:DIR[:TAG]", Help: "an OCI image layout",
		Examples: []string{"oci:./layout:app-1.0", "oci:/srv/layout"},
	},
	refs: pathRefs{},
	open: func(r Ref, _ Options) (Store, error) { return &layoutStore{ref: r, dir: r.Path}, nil },
}

// AnnotationRefName is the OCI image-layout annotation that tags an entry.
const AnnotationRefName = "org.opencontainers.image.ref.name"

// annotationKept marks index.json entries jbuild keeps by digest only (the
// base of a wrapped image, for unwrap); they carry no tag.
const annotationKept = "io.jbuild.kept"

// layoutStore is an OCI image layout directory (`oci:DIR[:TAG]`).
type layoutStore struct {
	ref Ref
	dir string
	// verified remembers the blobs checked against their descriptors
	// (see layout_verify.go); shared by an archive store's layouts.
	verified *layoutVerifier
}

func (s *layoutStore) Ref() Ref     { return s.ref }
func (s *layoutStore) Close() error { return nil }

func (s *layoutStore) index() (v1.ImageIndex, *v1.IndexManifest, error) {
	if _, err := os.Stat(filepath.Join(s.dir, "index.json")); errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("reading OCI layout %s: no index.json: %w", s.dir, ErrNotFound)
	}
	// A web project's index.json would read as a layout holding no image;
	// wrap reads its target first, so this is also where -t oci:DIR of
	// such a folder is refused.
	if problem, err := indexProblem(s.dir); err != nil || problem != "" {
		if err == nil {
			err = notLayout(s.ref, problem)
		}
		return nil, nil, fmt.Errorf("reading %s: %w", s.ref, err)
	}
	if err := checkIndexJSON(s.dir); err != nil {
		return nil, nil, fmt.Errorf("reading OCI layout %s: %w", s.dir, err)
	}
	ii, err := layout.ImageIndexFromPath(s.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("reading OCI layout %s: %w", s.dir, err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		return nil, nil, fmt.Errorf("reading OCI layout %s: %w", s.dir, err)
	}
	return ii, im, nil
}

func (s *layoutStore) Get(ctx context.Context) (*Artifact, error) {
	ii, im, err := s.index()
	if err != nil {
		return nil, err
	}
	var tagged []v1.Descriptor
	var tags []string
	for _, d := range im.Manifests {
		if t := d.Annotations[AnnotationRefName]; t != "" {
			tags = append(tags, t)
			if t == s.ref.Tag {
				tagged = append(tagged, d)
			}
		}
	}
	if s.ref.Tag == "" {
		var untagged []v1.Descriptor
		for _, d := range im.Manifests {
			if d.Annotations[annotationKept] == "" {
				untagged = append(untagged, d)
			}
		}
		if len(untagged) != 1 {
			return nil, fmt.Errorf("OCI layout %s holds %d images (tags: %s): name one as oci:%s:TAG", s.dir, len(untagged), strings.Join(tags, ", "), s.dir)
		}
		tagged = untagged
	}
	if len(tagged) == 0 {
		sort.Strings(tags)
		return nil, fmt.Errorf("OCI layout %s has no tag %q (tags: %s): %w", s.dir, s.ref.Tag, strings.Join(tags, ", "), ErrNotFound)
	}
	return s.artifact(ii, tagged[len(tagged)-1])
}

func (s *layoutStore) GetDigest(ctx context.Context, h v1.Hash) (*Artifact, error) {
	ii, im, err := s.index()
	if err != nil {
		return nil, err
	}
	for _, d := range im.Manifests {
		if d.Digest == h {
			return s.artifact(ii, d)
		}
	}
	return nil, fmt.Errorf("OCI layout %s has no manifest %s: %w", s.dir, h, ErrNotFound)
}

// artifact returns the image or index of d once every blob it reaches
// matches its descriptor.
func (s *layoutStore) artifact(ii v1.ImageIndex, d v1.Descriptor) (*Artifact, error) {
	if s.verified == nil {
		s.verified = &layoutVerifier{}
	}
	if err := s.verified.verify(s.dir, d, "OCI layout "+s.dir+": "+d.Digest.String()); err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.ref, err)
	}
	return artifactFromIndex(ii, d, s.dir)
}

func artifactFromIndex(ii v1.ImageIndex, d v1.Descriptor, dir string) (*Artifact, error) {
	switch {
	case d.MediaType.IsIndex():
		idx, err := ii.ImageIndex(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading index %s from %s: %w", d.Digest, dir, err)
		}
		return &Artifact{Index: idx}, nil
	case d.MediaType.IsImage():
		img, err := ii.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading image %s from %s: %w", d.Digest, dir, err)
		}
		return &Artifact{Image: img}, nil
	}
	return nil, fmt.Errorf("OCI layout %s: %s has media type %s, not an image", dir, d.Digest, d.MediaType)
}

func (s *layoutStore) Put(ctx context.Context, a *Artifact, keep ...*Artifact) error {
	if s.ref.Tag == "" {
		return fmt.Errorf("writing %s: a target in an OCI layout needs a tag: write oci:%s:TAG", s.ref, s.dir)
	}
	// Checked before anything is written: a refused folder stays as it was.
	if problem, err := layoutTargetProblem(s.dir); err != nil || problem != "" {
		if err == nil {
			err = notLayout(s.ref, problem)
		}
		return fmt.Errorf("writing %s: %w", s.ref, err)
	}
	before, err := layoutFiles(s.dir)
	if err != nil {
		return fmt.Errorf("writing %s: %w", s.ref, err)
	}
	p, err := openOrCreateLayout(s.dir)
	if err != nil {
		return err
	}
	all := append(append([]*Artifact{}, keep...), a)
	descs := make([]v1.Descriptor, len(all))
	for i, x := range all {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeBlobs(p, x); err != nil {
			return fmt.Errorf("writing %s: %w", s.ref, err)
		}
		d, err := descriptorOf(x)
		if err != nil {
			return err
		}
		descs[i] = *d
	}
	if err := settleModes(s.dir, before); err != nil {
		return fmt.Errorf("writing %s: %w", s.ref, err)
	}
	// index.json last, replaced atomically: until the rename the layout
	// still shows the old tag (or none).
	return s.updateIndex(descs[:len(keep)], descs[len(keep)])
}

func openOrCreateLayout(dir string) (layout.Path, error) {
	if p, err := layout.FromPath(dir); err == nil {
		return p, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("creating OCI layout %s: %w", dir, err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return "", fmt.Errorf("creating OCI layout %s: %w", dir, err)
	}
	return p, nil
}

func writeBlobs(p layout.Path, a *Artifact) error {
	if a.Index != nil {
		return p.WriteIndex(a.Index)
	}
	return p.WriteImage(a.Image)
}

func descriptorOf(a *Artifact) (*v1.Descriptor, error) {
	if a.Index != nil {
		return partial.Descriptor(a.Index)
	}
	return partial.Descriptor(a.Image)
}

func (s *layoutStore) updateIndex(kept []v1.Descriptor, tagged v1.Descriptor) error {
	indexPath := filepath.Join(s.dir, "index.json")
	raw, err := os.ReadFile(indexPath)
	if err != nil {
		return fmt.Errorf("reading %s: %w", indexPath, err)
	}
	var im v1.IndexManifest
	if err := json.Unmarshal(raw, &im); err != nil {
		return fmt.Errorf("reading %s: %w", indexPath, err)
	}
	if im.MediaType == "" {
		im.MediaType = types.OCIImageIndex
	}
	out := im.Manifests[:0:0]
	have := map[v1.Hash]bool{} // digests already kept; a tag does not count, it may move
	for _, d := range im.Manifests {
		if d.Annotations[AnnotationRefName] == s.ref.Tag {
			continue // the tag moves to the new manifest
		}
		if d.Annotations[annotationKept] != "" {
			have[d.Digest] = true
		}
		out = append(out, d)
	}
	for _, d := range kept {
		if have[d.Digest] {
			continue
		}
		d.Annotations = map[string]string{annotationKept: "base"}
		d.Platform = nil
		out = append(out, d)
		have[d.Digest] = true
	}
	tagged.Annotations = map[string]string{AnnotationRefName: s.ref.Tag}
	tagged.Platform = nil
	out = append(out, tagged)
	im.Manifests = out
	data, err := json.MarshalIndent(&im, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(indexPath, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", indexPath, err)
	}
	return nil
}

func cleanPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return filepath.Clean(p)
}
