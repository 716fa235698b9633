package wrap

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
)

// build applies one platform's plan to its base image: the agent layer on
// top, env and labels merged into the config. Nothing else changes: the
// config's created time and every other field stay as they were, so the same
// base and agent give the same image digest on every run (wrapping is
// reproducible, and re-wrapping an up-to-date target writes nothing).
func build(p *planned, opts *Options) (v1.Image, v1.Layer, error) {
	lo := opts.Layer
	lo.ContentDigest = p.bundle.Digest // lets a cache hit skip reading the agent files
	layer, err := agentlayer.Build(p.plan.Layer, p.bundle.Open, lo)
	if err != nil {
		return nil, nil, fmt.Errorf("building agent layer for %s: %w", p.platform.String(), err)
	}
	diffID, err := layer.DiffID()
	if err != nil {
		return nil, nil, err
	}
	mt, err := p.image.MediaType()
	if err != nil {
		return nil, nil, err
	}
	cf, err := p.image.ConfigFile()
	if err != nil {
		return nil, nil, err
	}
	add := mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   cf.Created,
			CreatedBy: fmt.Sprintf("jbuild: %s agent %s into %s", p.plan.Profile, agentVersion(p.plan), p.plan.InstallDir),
			Comment:   "jbuild",
		},
	}
	// A Docker schema 2 manifest must list Docker layer media types; the
	// bytes (and so the digest) are the same either way.
	if mt == types.DockerManifestSchema2 {
		add.MediaType = types.DockerLayer
	}
	img, err := mutate.Append(p.image, add)
	if err != nil {
		return nil, nil, err
	}
	ncf, err := img.ConfigFile()
	if err != nil {
		return nil, nil, err
	}
	ncf = ncf.DeepCopy()
	// Only env and labels change; Docker-only fields such as Healthcheck
	// stay as they are because the ggcr struct is edited in place.
	ncf.Config.Env = p.plan.ApplyEnv(ncf.Config.Env)
	ncf.Config.Labels = p.plan.ApplyLabels(ncf.Config.Labels)
	if ncf.Config.Labels == nil {
		ncf.Config.Labels = map[string]string{}
	}
	ncf.Config.Labels[buildplan.LabelLayer] = diffID.String()
	img, err = mutate.ConfigFile(img, ncf)
	if err != nil {
		return nil, nil, err
	}
	if mt == types.OCIManifestSchema1 {
		img = mutate.Annotations(img, map[string]string{
			buildplan.LabelBaseName:   p.plan.Labels[buildplan.LabelBaseName],
			buildplan.LabelBaseDigest: p.plan.Labels[buildplan.LabelBaseDigest],
		}).(v1.Image)
	}
	return img, layer, nil
}

func agentVersion(p *buildplan.Plan) string {
	if p.Agent.Version == "" {
		return "(version unknown)"
	}
	return p.Agent.Version
}
