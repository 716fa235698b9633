package wrap

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/templates"
)

// earlyLayer is the agent layer built before the image is read. The agent
// layer depends only on the agent bundle and its profile, so when both are
// known up front (one platform-independent bundle, and a profile forced or
// recognised from the bundle's marker files) it is compressed and streamed
// to the registry while the source image is fetched and planned. build uses
// it when the plan turns out to need exactly that layer; otherwise it is
// just a warm cache entry.
type earlyLayer struct {
	done         chan struct{}
	profile      string
	installDir   string
	bundleDigest string
	layer        v1.Layer
	err          error
}

func startEarlyAgentLayer(ctx context.Context, bs *bundles, opts *Options, dst transport.Store) *earlyLayer {
	if bs.multi {
		return nil
	}
	e := &earlyLayer{done: make(chan struct{})}
	go func() {
		defer close(e.done)
		b, err := bs.get(ctx, v1.Platform{})
		if err != nil {
			e.err = err
			return
		}
		prof := opts.Profile
		if prof == nil {
			p, ok := templates.MatchBundle(b.Files)
			if !ok {
				return // the image decides the profile: nothing to do early
			}
			prof = p
		}
		if buildplan.CheckMarkers(prof, b.Agent) != nil {
			return // planning refuses this bundle, naming why: build nothing
		}
		entries, err := buildplan.BundleLayer(prof, b.Agent)
		if err != nil {
			e.err = err
			return
		}
		e.profile, e.installDir, e.bundleDigest = prof.Name, prof.InstallDir, b.Digest
		e.layer, e.err = agentlayer.Build(entries, b.Open, layerOptions(ctx, opts, b, dst))
	}()
	return e
}

// result returns the early layer if it is the one p needs.
func (e *earlyLayer) result(p *planned) (v1.Layer, bool) {
	if e == nil {
		return nil, false
	}
	<-e.done
	if e.err != nil || e.layer == nil || e.profile != p.plan.Profile || e.bundleDigest != p.bundle.Digest ||
		e.installDir != p.plan.InstallDir { // the image moved it (a symlinked parent)
		return nil, false
	}
	return e.layer, true
}

// wait lets the early build finish before Wrap returns, so no upload is
// left running behind the caller's back.
func (e *earlyLayer) wait() {
	if e != nil {
		<-e.done
	}
}

// PrepareAgentLayer makes the agent layer a wrap would add and, when dst
// is a registry, streams it to dst's repository, returning once that is
// done (closing dst waits for the registry's commit). `wrap -f` calls it
// while it reads the images it will wrap: every wrap then finds the layer
// in the layer cache, and in the registry to mount. It does nothing when
// the layer cannot be known before an image is planned (an agent per
// platform, or a profile the image's runtime decides).
func PrepareAgentLayer(ctx context.Context, dst transport.Store, opts Options) error {
	bs, err := newBundles(ctx, opts.Agent)
	if err != nil {
		return err
	}
	if p, ok := dst.(transport.BlobPreparer); ok && !bs.multi {
		p.PrepareBlobs(ctx, 1)
	}
	e := startEarlyAgentLayer(ctx, bs, &opts, dst)
	if e == nil {
		return nil
	}
	e.wait()
	return e.err
}
