package wrap

import (
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// This file applies buildplan's rule for "is this jbuild's output" to
// images read through go-containerregistry. Only an image that passes it is
// rebuilt from its recorded base (an agent upgrade, unwrap, replacing an
// existing target); anything else that carries jbuild's labels (an image
// built FROM a monitored one, labels copied by hand) is a new source, so
// none of its own layers or settings can be dropped.

// sealConfig sets buildplan.LabelConfigDigest on cf: the digest of cf as it
// serializes with that label empty. The config is serialized the same way
// when it is checked, so the seal holds through any store that keeps the
// config's fields (registries, layouts, Docker, containerd all keep the
// config blob as is).
func sealConfig(cf *v1.ConfigFile) error {
	d, err := sealedDigest(cf)
	if err != nil {
		return err
	}
	cf.Config.Labels[buildplan.LabelConfigDigest] = d
	return nil
}

func sealedDigest(cf *v1.ConfigFile) (string, error) {
	c := cf.DeepCopy()
	labels := make(map[string]string, len(c.Config.Labels)+1)
	for k, v := range c.Config.Labels {
		labels[k] = v
	}
	labels[buildplan.LabelConfigDigest] = ""
	c.Config.Labels = labels
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("serializing the image config: %w", err)
	}
	return buildplan.ConfigDigest(b), nil
}

// imageEvidence reads what the rule looks at from one image; base, when
// non-nil, is the recorded base image.
func imageEvidence(img, base v1.Image) (buildplan.OutputEvidence, error) {
	var e buildplan.OutputEvidence
	cf, err := img.ConfigFile()
	if err != nil {
		return e, err
	}
	m, err := img.Manifest()
	if err != nil {
		return e, err
	}
	e.Labels = cf.Config.Labels
	if e.SealedDigest, err = sealedDigest(cf); err != nil {
		return e, err
	}
	e.DiffIDs = hashStrings(cf.RootFS.DiffIDs)
	e.Layers = len(m.Layers)
	if base != nil {
		bcf, err := base.ConfigFile()
		if err != nil {
			return e, fmt.Errorf("reading the recorded base: %w", err)
		}
		e.BaseDiffIDs = hashStrings(bcf.RootFS.DiffIDs)
		if e.BaseDiffIDs == nil {
			e.BaseDiffIDs = []string{}
		}
	}
	return e, nil
}

func hashStrings(hs []v1.Hash) []string {
	if hs == nil {
		return nil
	}
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.String()
	}
	return out
}

// checkOutput applies the rule to an artifact: every platform image of an
// index must pass. base nil checks what the artifact alone tells (its
// seal, its top layers); with the recorded base it also checks that the
// layers below are exactly the base's.
func checkOutput(a, base *transport.Artifact) error {
	if a.Image != nil {
		var bimg v1.Image
		if base != nil {
			if bimg = base.Image; bimg == nil {
				return fmt.Errorf("it is one image but its recorded base is an index")
			}
		}
		return checkImage(a.Image, bimg)
	}
	im, err := a.Index.IndexManifest()
	if err != nil {
		return err
	}
	var bases map[string]v1.Image
	if base != nil {
		if base.Index == nil {
			return fmt.Errorf("it is an index but its recorded base is one image")
		}
		if bases, err = platformImages(base.Index); err != nil {
			return fmt.Errorf("reading the recorded base: %w", err)
		}
	}
	n := 0
	for _, d := range im.Manifests {
		if !transport.IsPlatformImage(d) {
			continue
		}
		img, err := a.Index.Image(d.Digest)
		if err != nil {
			return err
		}
		var bimg v1.Image
		if bases != nil {
			if bimg = bases[d.Platform.String()]; bimg == nil {
				return fmt.Errorf("its recorded base has no %s image", d.Platform)
			}
		}
		if err := checkImage(img, bimg); err != nil {
			return fmt.Errorf("%s: %w", d.Platform, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("it lists no platform image")
	}
	return nil
}

func checkImage(img, base v1.Image) error {
	e, err := imageEvidence(img, base)
	if err != nil {
		return err
	}
	if base == nil {
		return e.CheckOwn()
	}
	return e.CheckBase()
}

func platformImages(idx v1.ImageIndex) (map[string]v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	out := map[string]v1.Image{}
	for _, d := range im.Manifests {
		if !transport.IsPlatformImage(d) {
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		out[d.Platform.String()] = img
	}
	return out, nil
}

// recordedSettings reads the settings an output's agent runs with (the
// first platform's: a wrap gives every platform the same options).
func recordedSettings(a *transport.Artifact) (*buildplan.Recorded, error) {
	img := a.Image
	if img == nil {
		im, err := a.Index.IndexManifest()
		if err != nil {
			return nil, err
		}
		for _, d := range im.Manifests {
			if transport.IsPlatformImage(d) {
				if img, err = a.Index.Image(d.Digest); err != nil {
					return nil, err
				}
				break
			}
		}
		if img == nil {
			return nil, nil
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	return buildplan.ParseRecorded(cf.Config.Labels)
}
