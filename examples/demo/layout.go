package main

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/jbuild-dev/jbuild/internal/testing/sampleimage"
)

// image is what the demo shows of one image.
type image struct {
	digest v1.Hash
	config *v1.ConfigFile
	layers []v1.Layer
}

// readImage resolves tag in the OCI layout at dir as `oci:DIR:TAG` does
// (the org.opencontainers.image.ref.name annotation). For an index it takes
// the sample image's platform.
func readImage(dir, tag string) (*image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("opening OCI layout %s: %w", dir, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range im.Manifests {
		if d.Annotations[sampleimage.RefNameAnnotation] != tag {
			continue
		}
		var img v1.Image
		if d.MediaType.IsIndex() {
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			img, err = platformImage(child, sampleimage.Platform)
			if err != nil {
				return nil, fmt.Errorf("%s:%s: %w", dir, tag, err)
			}
		} else if img, err = idx.Image(d.Digest); err != nil {
			return nil, err
		}
		return load(img)
	}
	return nil, fmt.Errorf("no image tagged %q in %s/index.json", tag, dir)
}

func platformImage(idx v1.ImageIndex, want v1.Platform) (v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range im.Manifests {
		if d.Platform != nil && d.Platform.OS == want.OS && d.Platform.Architecture == want.Architecture {
			return idx.Image(d.Digest)
		}
	}
	return nil, fmt.Errorf("index has no %s image", want)
}

func load(img v1.Image) (*image, error) {
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	return &image{digest: d, config: cfg, layers: layers}, nil
}

// addedLayers returns after's layers that before does not have.
func addedLayers(before, after *image) []v1.Layer {
	have := map[v1.Hash]bool{}
	for _, l := range before.layers {
		if d, err := l.Digest(); err == nil {
			have[d] = true
		}
	}
	var out []v1.Layer
	for _, l := range after.layers {
		if d, err := l.Digest(); err == nil && !have[d] {
			out = append(out, l)
		}
	}
	return out
}

func layerSize(l v1.Layer) string {
	n, err := l.Size()
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f kB", float64(n)/1000)
}

func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
