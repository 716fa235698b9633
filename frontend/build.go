package frontend

import (
	"context"
	"fmt"
	"sync"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/dockerfile/builder"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Version is recorded in the io.jbuild.version label; cmd/jbuild-frontend
// sets it at build time.
var Version = "dev"

// keyRequestID is the frontend option of a subrequest (BuildKit's
// frontend/subrequests): `docker buildx build --call=outline|targets`,
// `--check` (frontend.lint), and the describe request buildx sends first.
const keyRequestID = "requestid"

// Build is the frontend's gateway BuildFunc.
func Build(ctx context.Context, c gwclient.Client) (*gwclient.Result, error) {
	if id, ok := c.BuildOpts().Opts[keyRequestID]; ok {
		// A subrequest builds nothing: BuildKit's Dockerfile frontend
		// answers it (an outline, targets, lint results in the result's
		// metadata, no image), before any JENNIFER_* arg is read or the
		// agent loaded, and its answer is returned as it is; the outline
		// also lists the JENNIFER_* args (outline.go).
		res, err := builder.Build(ctx, c)
		if err == nil && id == outline.RequestSubrequestsOutline {
			return withJbuildArgs(res, c.BuildOpts().Opts)
		}
		return res, err
	}
	s, err := ParseSettings(c.BuildOpts().Opts, Version)
	if err != nil {
		return nil, err
	}
	if s.Disable {
		// Disabled: exactly what BuildKit's own Dockerfile frontend returns,
		// so the image digest is the same.
		return builder.Build(ctx, c)
	}
	// The agent is loaded alongside the Dockerfile build (on a cold cache
	// its pull overlaps the build's); an agent that cannot be loaded stops
	// the build at once. Its load starts once the build's first image is
	// resolved: buildkitd answered the agent's resolution and the FROM's
	// one after the other, so starting with the agent's delayed the whole
	// build by one registry round trip (bench -profile: the FROM's "load
	// metadata" 12 ms later than with BuildKit's own frontend).
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	inj := NewInjector(ctx, c, s, stop)
	ps, err := targetPlatforms(c)
	if err != nil {
		return nil, err
	}
	preload := sync.OnceFunc(func() { inj.Preload(ps...) })
	// The build runs with a client that reads each FROM image as soon as
	// it is resolved, so planning need not wait for the result (basefs.go).
	inj.bases = newBaseWatcher(ctx, c, inj.knownProfile, preload)
	res, err := builder.Build(ctx, inj.bases)
	preload() // a build that resolved no image (FROM scratch, a named context)
	if aerr := inj.agents.err(); aerr != nil {
		return nil, aerr
	}
	if err != nil {
		return nil, err
	}
	eps, err := exptypes.ParsePlatforms(res.Metadata)
	if err != nil {
		return nil, err
	}
	multi := len(res.Refs) > 0
	for _, p := range eps.Platforms {
		ref, key := res.Ref, exptypes.ExporterImageConfigKey
		if multi {
			ref, key = res.Refs[p.ID], exptypes.ExporterImageConfigKey+"/"+p.ID
		}
		if ref == nil {
			return nil, fmt.Errorf("the build has no result for %s", platformString(p.Platform))
		}
		out, err := inj.Inject(ctx, Target{Ref: ref, Config: res.Metadata[key], Platform: p.Platform, Name: "Dockerfile build (" + platformString(p.Platform) + ")"})
		if err != nil {
			return nil, err
		}
		if out.Unchanged {
			continue
		}
		// A builder that cannot run a step of the injection gets jbuild's
		// own message (what it lacks, who has it, what to do) before the
		// step fails there.
		base, err := ref.ToState()
		if err != nil {
			return nil, err
		}
		if err := checkBuilderCaps(ctx, c, base, out.State, p.Platform); err != nil {
			return nil, err
		}
		newRef, err := solve(ctx, c, out.State, p.Platform)
		if err != nil {
			return nil, err
		}
		if err := reportWarnings(ctx, c, out.State, p.Platform, out.Plan, len(eps.Platforms) > 1); err != nil {
			return nil, err
		}
		if multi {
			res.Refs[p.ID] = newRef
		} else {
			res.Ref = newRef
		}
		res.Metadata[key] = out.Config
	}
	return res, nil
}

// targetPlatforms are the platforms the Dockerfile build will produce, as
// BuildKit's Dockerfile frontend picks them: the platform option, else the
// worker's.
func targetPlatforms(c gwclient.Client) ([]ocispecs.Platform, error) {
	dc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, err
	}
	if len(dc.TargetPlatforms) > 0 {
		return dc.TargetPlatforms, nil
	}
	return dc.BuildPlatforms[:1], nil
}

func solve(ctx context.Context, c gwclient.Client, st llb.State, p ocispecs.Platform) (gwclient.Reference, error) {
	def, err := st.Marshal(ctx, llb.Platform(p))
	if err != nil {
		return nil, err
	}
	r, err := c.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, err
	}
	return r.SingleRef()
}
