package wrap

import (
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

// sealConfig sets buildplan.LabelConfigDigest on cf, whose diff IDs are
// final (jbuild's two layers included).
func sealConfig(cf *v1.ConfigFile) error {
	cf.Config.Labels[buildplan.LabelConfigDigest] = sealedConfig(cf).Seal()
	return nil
}

func sealedConfig(cf *v1.ConfigFile) buildplan.SealedConfig {
	c := cf.Config
	var hc []string
	if h := c.Healthcheck; h != nil {
		hc = buildplan.HealthcheckFields(h.Test, h.Interval, h.Timeout, h.StartPeriod, h.Retries)
	}
	ids := hashStrings(cf.RootFS.DiffIDs)
	return buildplan.NewSealedConfig(OCIConfig(c), hc, c.OnBuild, c.Shell, ids[:max(0, len(ids)-2)])
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
	e.SealedDigest = sealedConfig(cf).Seal()
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
	if (base != nil) && (a.Image == nil) != (base.Image == nil) {
		return fmt.Errorf("it and its recorded base are not both one image or both an index")
	}
	pis, err := a.PlatformImages()
	if err != nil {
		return err
	}
	if len(pis) == 0 {
		return fmt.Errorf("it lists no platform image")
	}
	var bases map[string]v1.Image
	if base != nil {
		if bases, err = imagesByPlatform(base); err != nil {
			return fmt.Errorf("reading the recorded base: %w", err)
		}
	}
	for _, pi := range pis {
		platform := ""
		if pi.Desc != nil {
			platform = pi.Desc.Platform.String()
		}
		var bimg v1.Image
		if bases != nil {
			if bimg = bases[platform]; bimg == nil {
				return fmt.Errorf("its recorded base has no %s image", platform)
			}
		}
		if err := checkImage(pi.Image, bimg); err != nil {
			if platform != "" {
				return fmt.Errorf("%s: %w", platform, err)
			}
			return err
		}
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

// imagesByPlatform maps an artifact's images by platform ("" for a
// single image).
func imagesByPlatform(a *transport.Artifact) (map[string]v1.Image, error) {
	pis, err := a.PlatformImages()
	if err != nil {
		return nil, err
	}
	out := map[string]v1.Image{}
	for _, pi := range pis {
		platform := ""
		if pi.Desc != nil {
			platform = pi.Desc.Platform.String()
		}
		out[platform] = pi.Image
	}
	return out, nil
}

// recordedSettings reads the settings an output's agent runs with (the
// first platform's: a wrap gives every platform the same options).
func recordedSettings(a *transport.Artifact) (*buildplan.Recorded, error) {
	pis, err := a.PlatformImages()
	if err != nil || len(pis) == 0 {
		return nil, err
	}
	cf, err := pis[0].Image.ConfigFile()
	if err != nil {
		return nil, err
	}
	return buildplan.ParseRecorded(cf.Config.Labels)
}
