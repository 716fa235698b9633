package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/templates"
)

// agentInput is the agent as the frontend sees it: the bundle (file list,
// contents, digest, read through the gateway) and where its files are in LLB.
type agentInput struct {
	bundle *agent.Bundle
	state  llb.State
	dir    string // the agent folder inside state
	// imageRoot is set when state is an agent image (`jbuild agent push`):
	// its only layer is the agent layer for that install dir, which a
	// MergeOp reuses byte for byte.
	imageRoot string
	// diffID of that layer, recorded in the io.jbuild.layer label.
	diffID string
	// source, when set, is the name of a single-file agent as given (see
	// singleFileContext), the bundle's source.
	source string
	// solved, when set, is state's agent folder already solved.
	solved *refFS
}

func bundleRoots() []string {
	all, err := templates.Profiles()
	if err != nil {
		return nil
	}
	var roots []string
	for _, p := range all {
		if p.BundleRoot != "" {
			roots = append(roots, p.BundleRoot)
		}
	}
	return roots
}

// loadAgent finds the agent for one platform: the JENNIFER_AGENT image, or
// the jennifer-agent named context (a local folder or docker-image://).
func loadAgent(ctx context.Context, c gwclient.Client, s *Settings, p ocispecs.Platform) (*agentInput, error) {
	if s.AgentRef != "" {
		return loadAgentImage(ctx, c, s.AgentRef, p)
	}
	dc, err := dockerui.NewClient(c)
	if err != nil {
		return nil, err
	}
	nc, err := dc.NamedContext(AgentContext, dockerui.ContextOpt{Platform: &p})
	if err != nil {
		return nil, fmt.Errorf("build context %s: %w", AgentContext, err)
	}
	if nc == nil {
		return nil, fmt.Errorf("no agent: set --build-arg %s=<agent image> (see `jbuild agent push`) or pass --build-context %s=./agent.java", ArgAgent, AgentContext)
	}
	st, img, err := nc.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("build context %s: %w", AgentContext, err)
	}
	if img != nil {
		root := img.Config.Labels[agent.LabelRoot]
		if root == "" {
			return nil, fmt.Errorf("build context %s is an image without the %s label: it is not an agent image; publish the agent with `jbuild agent push`", AgentContext, agent.LabelRoot)
		}
		in := &agentInput{state: *st, dir: root, imageRoot: root}
		if len(img.RootFS.DiffIDs) == 1 {
			in.diffID = img.RootFS.DiffIDs[0].String()
		}
		return in, readBundle(ctx, c, in, p, "build context "+AgentContext, img.Config.Labels)
	}
	in := &agentInput{state: *st, dir: "/"}
	what := "build context " + AgentContext
	if err := singleFileContext(ctx, c, in, p, s.Profile, what); err != nil {
		return nil, err
	}
	if in.source == "" { // a folder: indexed by a cached step when it can be (agentindex.go)
		if b, err := indexLocalAgent(ctx, c, in, p, what); err == nil {
			in.bundle = b
			return in, nil
		}
		in.dir = "/"
	}
	return in, readBundle(ctx, c, in, p, what, nil)
}

func loadAgentImage(ctx context.Context, c gwclient.Client, ref string, p ocispecs.Platform) (*agentInput, error) {
	_, dgst, dt, err := c.ResolveImageConfig(ctx, ref, sourceresolver.Opt{ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &p}})
	if err != nil {
		// %v, not %w: BuildKit sends an error that wraps a gRPC status with
		// that status's message alone, which would drop what to fix.
		return nil, fmt.Errorf("agent image %s (%s=%s): %v (check the reference, that it has %s, and the registry credentials BuildKit uses)", ref, ArgAgent, ref, err, platformString(p))
	}
	var img ocispecs.Image
	if err := json.Unmarshal(dt, &img); err != nil {
		return nil, fmt.Errorf("agent image %s: %w", ref, err)
	}
	root := img.Config.Labels[agent.LabelRoot]
	if root == "" {
		return nil, fmt.Errorf("agent image %s has no %s label: it is not an agent image; publish the agent with `jbuild agent push`", ref, agent.LabelRoot)
	}
	// By digest: the solver need not resolve the tag again, and the layer
	// is the one the config just read describes.
	pinned := ref
	if !strings.Contains(ref, "@") {
		pinned = ref + "@" + dgst.String()
	}
	in := &agentInput{state: llb.Image(pinned, llb.Platform(p)), dir: root, imageRoot: root}
	if len(img.RootFS.DiffIDs) == 1 {
		in.diffID = img.RootFS.DiffIDs[0].String()
	}
	return in, readBundle(ctx, c, in, p, "agent image "+ref, img.Config.Labels)
}

// readBundle gets the agent's bundle: from the index label of an agent
// image (`jbuild agent push` writes it: no pull, no unpacking), else by
// solving the agent's state and reading the agent folder through the
// gateway, with the same checks and digest as a folder on disk. An agent
// image's labels give the version and the digest (so its files are listed,
// not read).
func readBundle(ctx context.Context, c gwclient.Client, in *agentInput, p ocispecs.Platform, what string, labels map[string]string) error {
	if ix := labels[agent.LabelIndex]; ix != "" && in.imageRoot != "" {
		name := labels[agent.LabelAgent]
		if name == "" {
			name = path.Base(in.imageRoot)
		}
		b, err := agent.BundleFromIndex(ix, labels[buildplan.LabelAgentDigest], what, name, labels[agent.LabelVersion], lazyOpen(ctx, c, in, p, what))
		if err != nil {
			return err
		}
		in.bundle = b
		return nil
	}
	fsys := in.solved
	if fsys == nil {
		var err error
		if fsys, err = agentFS(ctx, c, in, p, what); err != nil {
			return err
		}
	}
	if in.imageRoot == "" {
		// A context holding the agent folder (agent.java/) rather than
		// being it: use that one folder.
		if sub, ok := agent.SingleAgentFolder(fsys, bundleRoots()); ok {
			in.dir = path.Join(in.dir, sub)
			fsys.dir = in.dir
		}
	}
	source := what
	if in.source != "" {
		source = in.source
	}
	b, err := agent.OpenFS(ctx, fsys, what, source, agent.Options{BundleRoot: bundleRoots(), KnownDigest: labels[buildplan.LabelAgentDigest]})
	if err != nil {
		return err
	}
	if b.Version == "" {
		b.Version = labels[agent.LabelVersion]
	}
	in.bundle = b
	return nil
}

// agentFS solves the agent's state and returns its agent folder.
func agentFS(ctx context.Context, c gwclient.Client, in *agentInput, p ocispecs.Platform, what string) (*refFS, error) {
	def, err := in.state.Marshal(ctx, llb.Platform(p))
	if err != nil {
		return nil, err
	}
	res, err := c.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	return newRefFS(ctx, ref, in.dir), nil
}

// lazyOpen reads agent files from the solved agent state, solving it (and
// so pulling the agent image) only when a file is first read.
func lazyOpen(ctx context.Context, c gwclient.Client, in *agentInput, p ocispecs.Platform, what string) func(string) (io.ReadCloser, error) {
	var (
		once sync.Once
		fsys *refFS
		err  error
	)
	return func(rel string) (io.ReadCloser, error) {
		once.Do(func() { fsys, err = agentFS(ctx, c, in, p, what) })
		if err != nil {
			return nil, err
		}
		return fsys.Open(rel)
	}
}

func platformString(p ocispecs.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
