package frontend

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/templates"
)

// Target is one platform of a build result: its root filesystem and config.
type Target struct {
	Ref      gwclient.Reference
	Config   []byte // the image config JSON (exptypes.ExporterImageConfigKey)
	Platform ocispecs.Platform
	// Name is how messages and labels call the image ("Dockerfile build"
	// for the frontend, the source reference for `wrap --builder`).
	Name string
	// BaseDigest is the source manifest digest when there is one.
	BaseDigest string
	// BaseName is the source reference recorded in the base-name label
	// when there is one.
	BaseName string
}

// Injected is the monitored variant of one Target.
type Injected struct {
	State  llb.State
	Config []byte
	Plan   *buildplan.Plan
	// Unchanged: the target already carries jbuild's agent; State and
	// Config are the target's own. That is how the frontend runs twice on
	// one build without adding the agent twice: invoked through gateway.v0
	// (BUILDKIT_SYNTAX, --frontend gateway.v0) on a Dockerfile that carries
	// its own `# syntax=` line, the Dockerfile builder inside it
	// (builder.Build) hands the build to that frontend image, which builds
	// and injects, and the outer run then gets the injected result back.
	// So injection must be idempotent (TestFrontendImageInjectsOnce).
	Unchanged bool
}

// Injector adds the agent to build results with one set of Settings. It
// loads the agent once per platform, in the background from Preload on.
type Injector struct {
	c      gwclient.Client
	s      *Settings
	agents *agentLoader
	// bases are the images the build's FROMs resolved, read ahead
	// (basefs.go); nil when the targets are not a Dockerfile's.
	bases *baseWatcher
}

// NewInjector returns an Injector for builds on c. Agent loads run under
// ctx; failed, if set, is told the first load error (to stop a build early).
func NewInjector(ctx context.Context, c gwclient.Client, s *Settings, failed func(error)) *Injector {
	return &Injector{c: c, s: s, agents: newAgentLoader(ctx, c, s, failed)}
}

// Preload starts loading the agent for the platforms a build will produce,
// so that work overlaps the build.
func (inj *Injector) Preload(ps ...ocispecs.Platform) {
	for _, p := range ps {
		inj.agents.start(p)
	}
}

// Inject plans one target with buildplan and returns the LLB state that adds
// the agent layer and the settings layer on top of it (see stack: no RUN
// step, so images without a shell work), with the config that activates the
// agent.
func (inj *Injector) Inject(ctx context.Context, t Target) (*Injected, error) {
	s := inj.s
	var img dockerspec.DockerOCIImage
	if err := json.Unmarshal(t.Config, &img); err != nil {
		return nil, fmt.Errorf("reading the image config of %s: %w", t.Name, err)
	}
	base, err := t.Ref.ToState()
	if err != nil {
		return nil, err
	}
	if injected(img) {
		return &Injected{State: base, Config: t.Config, Unchanged: true}, nil
	}
	fsys, unread := inj.bases.planFS(ctx, t, img, s.Profile)
	if fsys == nil {
		fsys = newRefFS(ctx, t.Ref, "/")
		prefetchInstallDirs(fsys, inj.knownProfile(t.Platform))
	}
	in, err := inj.agents.get(ctx, t.Platform)
	if err != nil {
		return nil, err
	}
	bimg := buildplan.Image{
		Reference: t.Name,
		Digest:    t.BaseDigest,
		Platform:  t.Platform,
		Config:    img.Config.ImageConfig,
		FS:        fsys,
	}
	prof, err := templates.Choose(bimg, in.bundle.Files, s.Profile, s.Plan.Runtime)
	if err != nil {
		return nil, err
	}
	// Make checks the options against the profile (the agent's port and
	// domain id ranges), naming them as s.Plan.Names does: build args.
	opts := s.Plan
	if t.BaseName != "" {
		opts.BaseName = t.BaseName
	}
	plan, err := buildplan.Make(bimg, prof, in.bundle.Agent, opts)
	if err != nil {
		return nil, err
	}
	plan.Unread = unread
	if planned != nil {
		planned(plan)
	}

	// The agent image's only layer is exactly plan.Layer (both come from
	// buildplan.BundleLayer): merging the image reuses its blob, so the
	// agent layer is byte-identical to the one `jbuild wrap` adds.
	linksOf := ""
	if caps := inj.c.BuildOpts().LLBCaps; caps.Supports(pb.CapFileSymlinkCreate) != nil {
		linksOf = plan.InstallDir
	}
	agentLayer := in.state
	if in.imageRoot != plan.InstallDir {
		agentLayer = layerState("agent layer", plan.Layer, in.state, in.dir, s.Epoch, linksOf)
	}
	settingsLayer := layerState("settings layer", plan.Settings, in.state, in.dir, s.Epoch, linksOf)
	st, merged := stack(inj.c, base, agentLayer, settingsLayer, "[jbuild] add the "+prof.Agent+" agent")

	var layers buildplan.LayerDiffIDs
	if in.imageRoot == plan.InstallDir && merged {
		layers.Agent = in.diffID // a copy makes a layer of its own
	}
	// t's config is the source image's own, so its diff IDs are the
	// base's. The config is sealed when the plan records a base digest
	// (`wrap --builder`), so upgrades and unwrap take the output for
	// jbuild's (see buildplan.LabelConfigDigest).
	applied := buildplan.ApplyImage(plan, imageParts(img), layers)
	img.Config.Env = applied.Config.Env
	img.Config.Labels = applied.Config.Labels
	img.History = applied.History
	cfg, err := json.Marshal(img)
	if err != nil {
		return nil, err
	}
	return &Injected{State: st, Config: cfg, Plan: plan}, nil
}

// knownProfile is the profile planning will take for platform p if it is
// known before the image is read: the one the user forced, or the one the
// agent names when it has already loaded (it loads alongside the build).
// Each stat a prefetch makes is a round trip to buildkitd that mounts the
// image: with a known profile, only its folders are asked for.
func (inj *Injector) knownProfile(p ocispecs.Platform) *buildplan.Profile {
	if inj.s.Profile != nil {
		return inj.s.Profile
	}
	if in, ok := inj.agents.ready(p); ok {
		prof, _ := templates.MatchBundle(in.bundle.Files)
		return prof
	}
	return nil
}

// planned, when set (by tests, which run the frontend in process), sees
// every plan Inject makes.
var planned func(*buildplan.Plan)

// imageParts maps a config to what buildplan.ApplyImage reads.
func imageParts(img dockerspec.DockerOCIImage) buildplan.ImageParts {
	c := img.Config
	var hc []string
	if h := c.Healthcheck; h != nil {
		hc = buildplan.HealthcheckFields(h.Test, h.Interval, h.Timeout, h.StartPeriod, h.Retries)
	}
	base := make([]string, len(img.RootFS.DiffIDs))
	for i, d := range img.RootFS.DiffIDs {
		base[i] = d.String()
	}
	return buildplan.ImageParts{
		Config: c.ImageConfig, Healthcheck: hc, OnBuild: c.OnBuild, Shell: c.Shell,
		Created: img.Created, History: img.History, BaseDiffIDs: base,
	}
}

// injected reports whether an image is already jbuild's output, by the
// rule both engines apply (buildplan.CheckOutputConfig). An image built
// FROM a monitored one is not: like `jbuild wrap`, the frontend takes it
// for the new image it is (its env already names the agent, so no flag
// is added twice).
func injected(img dockerspec.DockerOCIImage) bool {
	p := imageParts(img)
	return buildplan.CheckOutputConfig(p, p.BaseDiffIDs) == nil
}
