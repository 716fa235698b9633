package wrap

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// This file applies buildplan's rule for "is this jbuild's output" to
// images read through go-containerregistry. Only an image that passes it is
// rebuilt from its recorded base (an agent upgrade, unwrap, replacing an
// existing target); anything else that carries jbuild's labels (an image
// built FROM a monitored one, labels copied by hand) is a new source, so
// none of its own layers or settings can be dropped.

// imageParts maps a config to what buildplan.ApplyImage reads: cf is the
// base's, so all its diff IDs are below jbuild's two layers.
func imageParts(cf *v1.ConfigFile) buildplan.ImageParts {
	return configParts(cf, hashStrings(cf.RootFS.DiffIDs))
}

func configParts(cf *v1.ConfigFile, baseDiffIDs []string) buildplan.ImageParts {
	c := cf.Config
	var hc []string
	if h := c.Healthcheck; h != nil {
		hc = buildplan.HealthcheckFields(h.Test, h.Interval, h.Timeout, h.StartPeriod, h.Retries)
	}
	created := cf.Created.Time
	history := make([]ocispec.History, len(cf.History))
	for i, h := range cf.History {
		t := h.Created.Time
		history[i] = ocispec.History{Created: &t, CreatedBy: h.CreatedBy, Author: h.Author, Comment: h.Comment, EmptyLayer: h.EmptyLayer}
	}
	return buildplan.ImageParts{
		Config: OCIConfig(c), Healthcheck: hc, OnBuild: c.OnBuild, Shell: c.Shell,
		Created: &created, History: history, BaseDiffIDs: baseDiffIDs,
	}
}

func v1History(h ocispec.History) v1.History {
	out := v1.History{CreatedBy: h.CreatedBy, Author: h.Author, Comment: h.Comment, EmptyLayer: h.EmptyLayer}
	if h.Created != nil {
		out.Created = v1.Time{Time: *h.Created}
	}
	return out
}

// sealedConfig is what buildplan.LabelConfigDigest covers of cf, whose
// top layers are jbuild's (two, or the agent layer alone: added, as
// buildplan.AddedLayers reads it from the history).
func sealedConfig(cf *v1.ConfigFile) (s buildplan.SealedConfig, added int) {
	ids := hashStrings(cf.RootFS.DiffIDs)
	added = buildplan.AddedLayers(historyComments(cf))
	parts := configParts(cf, ids[:max(0, len(ids)-added)])
	parts.Added = added
	return parts.Sealed(), added
}

func historyComments(cf *v1.ConfigFile) []string {
	out := make([]string, len(cf.History))
	for i, h := range cf.History {
		out[i] = h.Comment
	}
	return out
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
	sealed, added := sealedConfig(cf)
	e.SealedDigest, e.Added = sealed.Seal(), added
	e.DiffIDs = hashStrings(cf.RootFS.DiffIDs)
	e.Layers = len(m.Layers)
	e.InImageSealedDigest = sealed.InImage(len(e.DiffIDs)).Seal()
	e.HistoryComments = historyComments(cf)
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
	l, err := a.FirstLabels()
	if err != nil {
		return nil, err
	}
	return buildplan.ParseRecorded(l)
}
