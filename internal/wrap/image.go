package wrap

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// build applies one platform's plan to its base image: the agent layer (the
// same bytes for every image wrapped with this agent) and the small settings
// layer on top (left out when the plan has no settings: no config file, no
// writable dir), env and labels merged into the config. Nothing else
// changes: the config's created time and every other field stay as they
// were, so the same base and agent give the same image digest on every run
// (wrapping is reproducible, and re-wrapping an up-to-date target writes
// nothing).
//
// dst, when it can take a blob while it is being made (a registry), receives
// new layers as they are compressed: the uploads run alongside compression
// (the small settings layer alongside the agent layer), and the later push
// finds the blobs already there.
func build(ctx context.Context, p *planned, opts *Options, dst transport.Store, early *earlyLayer) (v1.Image, builtLayers, error) {
	var out builtLayers
	lo := layerOptions(ctx, opts, p.bundle, dst)
	var settingsErr error
	settingsDone := make(chan struct{})
	go func() {
		defer close(settingsDone)
		if p.plan.AddedLayers() == 2 {
			out.settings, settingsErr = agentlayer.Build(p.plan.Settings, p.bundle.Open, lo)
		}
	}()
	var err error
	if l, ok := early.result(p); ok {
		out.agent = l
	} else {
		out.agent, err = agentlayer.Build(p.plan.Layer, p.bundle.Open, lo)
	}
	<-settingsDone
	if err != nil {
		return nil, out, fmt.Errorf("building agent layer for %s: %w", p.platform.String(), err)
	}
	if settingsErr != nil {
		return nil, out, fmt.Errorf("building settings layer for %s: %w", p.platform.String(), settingsErr)
	}
	mt, err := p.image.MediaType()
	if err != nil {
		return nil, out, err
	}
	cf, err := p.image.ConfigFile()
	if err != nil {
		return nil, out, err
	}
	agentDiff, err := out.agent.DiffID()
	if err != nil {
		return nil, out, err
	}
	diffs := buildplan.LayerDiffIDs{Agent: agentDiff.String()}
	if out.settings != nil {
		settingsDiff, err := out.settings.DiffID()
		if err != nil {
			return nil, out, err
		}
		diffs.Settings = settingsDiff.String()
	}
	in := imageParts(cf)
	applied := buildplan.ApplyImage(p.plan, in, diffs)
	added := applied.History[len(in.History):]
	if len(added) != p.plan.AddedLayers() {
		return nil, out, fmt.Errorf("%s already carries this agent and settings", p.platform.String())
	}
	// A Docker schema 2 manifest must list Docker layer media types; the
	// bytes (and so the digests) are the same either way.
	var layerType types.MediaType
	if mt == types.DockerManifestSchema2 {
		layerType = types.DockerLayer
	}
	adds := []mutate.Addendum{{Layer: out.agent, MediaType: layerType, History: v1History(added[0])}}
	if out.settings != nil {
		adds = append(adds, mutate.Addendum{Layer: out.settings, MediaType: layerType, History: v1History(added[1])})
	}
	img, err := mutate.Append(p.image, adds...)
	if err != nil {
		return nil, out, err
	}
	ncf, err := img.ConfigFile()
	if err != nil {
		return nil, out, err
	}
	ncf = ncf.DeepCopy()
	// Only env and labels change (the seal among them, computed by
	// ApplyImage over the final config); Docker-only fields such as
	// Healthcheck stay as they are because the ggcr struct is edited in
	// place.
	ncf.Config.Env = applied.Config.Env
	ncf.Config.Labels = applied.Config.Labels
	img, err = mutate.ConfigFile(img, ncf)
	if err != nil {
		return nil, out, err
	}
	if mt == types.OCIManifestSchema1 {
		img = mutate.Annotations(img, map[string]string{
			buildplan.LabelBaseName:   p.plan.Labels[buildplan.LabelBaseName],
			buildplan.LabelBaseDigest: p.plan.Labels[buildplan.LabelBaseDigest],
		}).(v1.Image)
	}
	return img, out, nil
}

// builtLayers are the layers wrap adds; settings is nil when the plan
// has none.
type builtLayers struct {
	agent, settings v1.Layer
}

// layerOptions are the agentlayer options for one bundle: its digest stands
// in for the file contents in the cache key, and a destination that takes
// blobs while they are made receives each new layer as it is compressed.
func layerOptions(ctx context.Context, opts *Options, b *agent.Bundle, dst transport.Store) agentlayer.Options {
	lo := opts.Layer
	lo.ContentDigest = b.Digest // lets a cache hit skip reading the agent files
	if bs, ok := dst.(transport.BlobStreamer); ok {
		lo.Upload = func(sizeHint int64) (agentlayer.Upload, error) { return bs.StartBlob(ctx, sizeHint) }
	}
	return lo
}
