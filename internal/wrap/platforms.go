package wrap

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/internal/transport"
)

// platformImage is one image to wrap: the only image of a single-platform
// source, or one entry of an index.
type platformImage struct {
	platform v1.Platform
	image    v1.Image
	// desc is the entry in the source index (nil for a single image); its
	// annotations carry over to the output index.
	desc *v1.Descriptor
}

// attestationRefType is how BuildKit marks provenance/SBOM manifests in an
// index; they describe the unwrapped images by digest, so after wrapping
// they would describe images that are not in the index anymore.
const attestationRefType = "vnd.docker.reference.type"

func (s *source) platformImages(opts *Options) ([]platformImage, []string, error) {
	if s.base.Image != nil {
		cf, err := s.base.Image.ConfigFile()
		if err != nil {
			return nil, nil, fmt.Errorf("reading config of %s: %w", s.baseName, err)
		}
		p := platformOf(cf)
		if len(opts.Platforms) > 0 && !matchesAny(p, opts.Platforms) {
			return nil, nil, fmt.Errorf("%s is a single %s image; --platform %s selects nothing in it", s.ref, p.String(), platformList(opts.Platforms))
		}
		return []platformImage{{platform: p, image: s.base.Image}}, nil, nil
	}
	im, err := s.base.Index.IndexManifest()
	if err != nil {
		return nil, nil, fmt.Errorf("reading index %s: %w", s.baseName, err)
	}
	var out []platformImage
	var dropped []string
	for i := range im.Manifests {
		d := im.Manifests[i]
		switch {
		case d.Annotations[attestationRefType] != "":
			dropped = append(dropped, fmt.Sprintf("%s (%s for %s: it describes the image before wrapping)", d.Digest, d.Annotations[attestationRefType], d.Annotations["vnd.docker.reference.digest"]))
			continue
		case !d.MediaType.IsImage():
			dropped = append(dropped, fmt.Sprintf("%s (%s is not an image)", d.Digest, d.MediaType))
			continue
		case d.Platform == nil || d.Platform.OS == "unknown":
			dropped = append(dropped, fmt.Sprintf("%s (no platform)", d.Digest))
			continue
		case len(opts.Platforms) > 0 && !matchesAny(*d.Platform, opts.Platforms):
			dropped = append(dropped, fmt.Sprintf("%s (%s not selected by --platform)", d.Digest, d.Platform))
			continue
		}
		img, err := s.base.Index.Image(d.Digest)
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s of %s: %w", d.Platform, s.baseName, err)
		}
		if err := transport.CheckConfigSize(fmt.Sprintf("%s (%s)", s.baseName, d.Platform), img); err != nil {
			return nil, nil, err
		}
		out = append(out, platformImage{platform: *d.Platform, image: img, desc: &d})
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("index %s has no image to wrap%s", s.ref, selectedHint(opts))
	}
	return out, dropped, nil
}

func selectedHint(opts *Options) string {
	if len(opts.Platforms) == 0 {
		return ""
	}
	return " for --platform " + platformList(opts.Platforms)
}

func matchesAny(p v1.Platform, want []v1.Platform) bool {
	for _, w := range want {
		if p.Satisfies(w) {
			return true
		}
	}
	return false
}

func platformList(ps []v1.Platform) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += ","
		}
		s += p.String()
	}
	return s
}
