package agent

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The agent image contract, written by ImageFromLayer and read by Open:
// one layer whose entries are the agent files under an install folder, and
// these config labels.
const (
	// LabelRoot is the absolute install folder of the agent files inside the
	// layer ("/opt/jennifer/agent.java"). Required: the files below it are
	// the bundle, anything else in the layer (its parents) is ignored.
	LabelRoot = "io.jbuild.agent.root"
	// LabelAgent is the agent's name ("agent.java").
	LabelAgent = "io.jbuild.agent"
	// LabelVersion is the agent version, when known.
	LabelVersion = "io.jbuild.agent.version"
	// LabelProfile names the profile the agent is meant for ("jennifer-java").
	LabelProfile = "io.jbuild.profile"
)

// imageSource is an agent image: a single platform-independent image, or an
// index with one image per platform (agents with native parts, e.g. .NET).
type imageSource struct {
	ref  string
	idx  v1.ImageIndex
	img  v1.Image
	opts Options

	mu      sync.Mutex
	bundles map[v1.Hash]*Bundle
}

var _ Source = (*imageSource)(nil)

func openImage(ctx context.Context, ref string, opts Options) (Source, error) {
	if opts.ResolveImage == nil {
		return nil, fmt.Errorf("agent %q is not a folder, archive or URL, and image references are not supported here", ref)
	}
	idx, img, err := opts.ResolveImage(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("agent %s is not a folder, archive or URL; as an image reference: %w", ref, err)
	}
	if (idx == nil) == (img == nil) {
		return nil, fmt.Errorf("resolving agent image %s: the resolver returned both an index and an image, or neither", ref)
	}
	return &imageSource{ref: ref, idx: idx, img: img, opts: opts, bundles: map[v1.Hash]*Bundle{}}, nil
}

func (s *imageSource) String() string { return s.ref }

// Platforms lists the index's platforms; a single image is
// platform-independent (nil), whatever its config says: `jbuild agent push`
// makes an index exactly when the agent has per-platform variants.
func (s *imageSource) Platforms(ctx context.Context) ([]v1.Platform, error) {
	if s.idx == nil {
		return nil, nil
	}
	descs, err := s.manifests()
	if err != nil {
		return nil, err
	}
	ps := make([]v1.Platform, 0, len(descs))
	for _, d := range descs {
		ps = append(ps, *d.Platform)
	}
	return ps, nil
}

// manifests returns the index's image manifests that have a real platform
// (attestation manifests, "unknown/unknown", are skipped).
func (s *imageSource) manifests() ([]v1.Descriptor, error) {
	im, err := s.idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading agent image %s: %w", s.ref, err)
	}
	var out []v1.Descriptor
	for _, d := range im.Manifests {
		if d.Platform == nil || d.Platform.OS == "unknown" || !d.MediaType.IsImage() {
			continue
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("agent image %s: the index lists no platform images", s.ref)
	}
	return out, nil
}

func (s *imageSource) Bundle(ctx context.Context, p *v1.Platform) (*Bundle, error) {
	if s.idx == nil {
		return s.bundleOf(ctx, s.img, s.ref)
	}
	descs, err := s.manifests()
	if err != nil {
		return nil, err
	}
	var avail []string
	for _, d := range descs {
		avail = append(avail, d.Platform.String())
	}
	var pick *v1.Descriptor
	switch {
	case p == nil && len(descs) == 1:
		pick = &descs[0]
	case p == nil:
		return nil, fmt.Errorf("agent image %s has variants for %s; choose a platform", s.ref, strings.Join(avail, ", "))
	default:
		for i, d := range descs {
			if platformMatches(*p, *d.Platform) {
				pick = &descs[i]
				break
			}
		}
		if pick == nil {
			return nil, fmt.Errorf("agent image %s has no variant for %s (available: %s)", s.ref, p.String(), strings.Join(avail, ", "))
		}
	}
	img, err := s.idx.Image(pick.Digest)
	if err != nil {
		return nil, fmt.Errorf("reading agent image %s (%s): %w", s.ref, pick.Platform.String(), err)
	}
	return s.bundleOf(ctx, img, fmt.Sprintf("%s (%s)", s.ref, pick.Platform.String()))
}

// platformMatches compares OS and architecture, and the variant when both
// name one (arm64 without a variant is v8).
func platformMatches(want, have v1.Platform) bool {
	if want.OS != have.OS || want.Architecture != have.Architecture {
		return false
	}
	wv, hv := want.Variant, have.Variant
	if want.Architecture == "arm64" {
		if wv == "" {
			wv = "v8"
		}
		if hv == "" {
			hv = "v8"
		}
	}
	return wv == "" || hv == "" || wv == hv
}

func (s *imageSource) bundleOf(ctx context.Context, img v1.Image, what string) (*Bundle, error) {
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("reading agent image %s: %w", what, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.bundles[d]; b != nil {
		return b, nil
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading agent image %s: %w", what, err)
	}
	labels := cf.Config.Labels
	root := labels[LabelRoot]
	if root == "" {
		return nil, fmt.Errorf("%s is not a jbuild agent image: its config has no %s label (make one with `jbuild agent push`)", what, LabelRoot)
	}
	if !path.IsAbs(root) || path.Clean(root) == "/" {
		return nil, fmt.Errorf("agent image %s: label %s=%q must be an absolute folder below /", what, LabelRoot, root)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("reading agent image %s: %w", what, err)
	}
	if len(layers) != 1 {
		return nil, fmt.Errorf("agent image %s has %d layers; an agent image has exactly one (make it with `jbuild agent push`)", what, len(layers))
	}
	prefix := strings.TrimPrefix(path.Clean(root), "/")
	accept := func(raw []*entry) error {
		_, _, err := assemble(what, raw, prefix, false, nil)
		return err
	}
	raw, err := readLayer(ctx, layers[0], what, s.opts, accept)
	if err != nil {
		return nil, err
	}
	files, _, err := assemble(what, raw, prefix, false, nil)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("agent image %s has no files below %s (label %s)", what, root, LabelRoot)
	}
	name := labels[LabelAgent]
	if name == "" {
		name = path.Base(root)
	}
	b := newBundle(s.ref, name, labels[LabelVersion], files)
	s.bundles[d] = b
	return b, nil
}

// readLayer reads an agent image layer through the cache: unpacked once to
// agent-tars/<layer digest>.tar (checked on the way), read in place later.
func readLayer(ctx context.Context, l v1.Layer, what string, opts Options, accept func([]*entry) error) ([]*entry, error) {
	ld, err := l.Digest()
	if err != nil {
		return nil, fmt.Errorf("reading agent image %s: %w", what, err)
	}
	dest := cachePath(opts, "agent-tars", ld.Hex+".tar")
	if f, err := os.Open(dest); err == nil {
		touch(dest)
		entries, err := readTarFile(ctx, f, what, opts)
		if err != nil {
			f.Close()
		}
		return entries, err
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return nil, fmt.Errorf("reading agent image %s layer %s: %w", what, ld, err)
	}
	defer rc.Close()
	_, entries, err := unpackTar(ctx, rc, dest, what, opts, accept)
	return entries, err
}
