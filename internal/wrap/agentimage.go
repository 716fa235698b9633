package wrap

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/templates"
)

// PlatformBundle is one agent variant for `jbuild agent push`; Platform is
// nil for an agent without native parts.
type PlatformBundle struct {
	Platform *v1.Platform
	Bundle   *agent.Bundle
}

// AgentImage builds the agent image `jbuild agent push` writes: the bundle
// as shipped (no generated config, everything root-owned) under the
// profile's install dir, in the same deterministic layer form wrap uses, and
// a multi-platform index when there is more than one variant. --agent and the
// frontend read it back as a bundle.
func AgentImage(prof *buildplan.Profile, variants []PlatformBundle, layerOpts agentlayer.Options) (*transport.Artifact, error) {
	if len(variants) == 0 {
		return nil, fmt.Errorf("no agent given")
	}
	var adds []mutate.IndexAddendum
	for _, v := range variants {
		entries, err := buildplan.BundleLayer(prof, v.Bundle.Agent)
		if err != nil {
			return nil, err
		}
		lo := layerOpts
		lo.ContentDigest = v.Bundle.Digest
		layer, err := agentlayer.Build(entries, v.Bundle.Open, lo)
		if err != nil {
			return nil, fmt.Errorf("building agent layer: %w", err)
		}
		plat := v1.Platform{OS: "linux", Architecture: "amd64"}
		if v.Platform != nil {
			plat = *v.Platform
		}
		version := v.Bundle.Version
		if version == "" && prof.VersionFrom != nil {
			version = buildplan.BundleVersion(prof, v.Bundle.Agent)
		}
		index, err := agent.IndexLabel(v.Bundle, templates.BundleReads(prof))
		if err != nil {
			return nil, err
		}
		img, err := agent.ImageFromLayer(layer, plat, map[string]string{
			agent.LabelRoot:             prof.InstallDir,
			buildplan.LabelAgent:        prof.Agent,
			buildplan.LabelAgentVersion: version,
			buildplan.LabelProfile:      prof.Name,
			buildplan.LabelRuntime:      string(prof.Runtime),
			// Lets readers that see only the files (the frontend, through
			// BuildKit\'s gateway) skip hashing them.
			buildplan.LabelAgentDigest: v.Bundle.Digest,
			// Lets the frontend plan from the image config alone, without
			// pulling the layer (see agent.LabelIndex).
			agent.LabelIndex: index,
		})
		if err != nil {
			return nil, err
		}
		if len(variants) == 1 && v.Platform == nil {
			return &transport.Artifact{Image: img}, nil
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &plat}})
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
	return &transport.Artifact{Index: idx}, nil
}
