package frontend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/templates"
)

// A local agent folder (--build-context jennifer-agent=DIR) has no index
// label, so planning needs its file list and digest, and reading and hashing
// every file through the gateway costs a round trip per file and the whole
// folder's bytes over the frontend's pipe on every build (20 MB: ~0.2 s of a
// 0.4 s warm build). Instead the frontend runs its own image once as a step
// (IndexAgentCommand) with the folder mounted: the step writes the same
// index an agent image carries, and BuildKit keys the step by the folder's
// content, as it keys the local source itself, so a build with the same
// folder finds it cached and reads one small file. Only files planning
// reads are then read, on demand, as for an agent image. Anything the step
// cannot answer (a single-file context, an unreadable folder) falls back
// to reading the folder, which gives the same errors as before.

// IndexAgentCommand is the argument cmd/jbuild-frontend runs the indexing
// step with: `jbuild-frontend index-agent IN OUT`.
const IndexAgentCommand = "index-agent"

// indexStepName is the indexing step's name in the build's progress.
const indexStepName = "[jbuild] index the agent folder"

// indexFile is what the indexing step writes into OUT.
const indexFile = "agent-index.json"

// agentIndex is the indexing step's answer.
type agentIndex struct {
	// Sub is the agent folder inside the context ("" for the context
	// itself, "agent.java" for a context holding one agent folder).
	Sub     string `json:"sub,omitempty"`
	Index   string `json:"index,omitempty"`
	Digest  string `json:"digest,omitempty"`
	Version string `json:"version,omitempty"`
	// Unsupported says why the step could not index the context: the
	// frontend then reads it itself.
	Unsupported string `json:"unsupported,omitempty"`
}

// IndexAgentMain is the indexing step: it reads the agent folder in (or
// the one agent folder in it) and writes its index into out. It reports a
// folder it cannot index in the index file, not by failing, so that the
// build goes on and the frontend says what is wrong in its own words.
func IndexAgentMain(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: %s IN OUT", IndexAgentCommand)
	}
	in, out := args[0], args[1]
	ix := indexFolder(context.Background(), in)
	data, err := json.Marshal(ix)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, indexFile), data, 0o644)
}

func indexFolder(ctx context.Context, in string) agentIndex {
	dir, sub := in, ""
	des, err := os.ReadDir(in)
	if err != nil {
		return agentIndex{Unsupported: err.Error()}
	}
	if found, ok := agent.SingleAgentFolder(os.DirFS(in), bundleRoots()); ok {
		sub = found
		dir = filepath.Join(in, sub)
	} else if len(des) == 1 && des[0].Type().IsRegular() {
		return agentIndex{Unsupported: "a single file"} // a single-file agent: read by the frontend
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return agentIndex{Unsupported: err.Error()}
	}
	defer root.Close()
	what := "build context " + AgentContext
	b, err := agent.OpenFS(ctx, root.FS(), what, what, agent.Options{BundleRoot: bundleRoots()})
	if err != nil {
		return agentIndex{Unsupported: err.Error()}
	}
	label, err := agent.IndexLabel(b, templates.BundleReads(nil))
	if err != nil {
		return agentIndex{Unsupported: err.Error()}
	}
	return agentIndex{Sub: sub, Index: label, Digest: b.Digest, Version: b.Version}
}

// errNoIndexer: the frontend does not know its own image (it runs in
// process, as the tests and the bench's profile run it).
var errNoIndexer = errors.New("the frontend's own image is not known")

// indexLocalAgent runs the indexing step on in's state and makes the bundle
// from its answer.
func indexLocalAgent(ctx context.Context, c gwclient.Client, in *agentInput, p ocispecs.Platform, what string) (*agent.Bundle, error) {
	src := c.BuildOpts().Opts["source"]
	if src == "" {
		return nil, errNoIndexer
	}
	bp := c.BuildOpts().Workers[0].Platforms[0]
	_, _, dt, err := c.ResolveImageConfig(ctx, src, sourceresolver.Opt{ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &bp}})
	if err != nil {
		return nil, err
	}
	var img ocispecs.Image
	if err := json.Unmarshal(dt, &img); err != nil {
		return nil, err
	}
	if len(img.Config.Entrypoint) == 0 {
		return nil, fmt.Errorf("the frontend image %s has no entrypoint", src)
	}
	run := llb.Image(src, llb.Platform(bp)).Run(
		llb.Args([]string{img.Config.Entrypoint[0], IndexAgentCommand, "/agent", "/out"}),
		llb.Network(llb.NetModeNone),
		llb.User("0:0"), // the frontend image runs as non-root; /out is root's
		llb.WithCustomName(indexStepName))
	run.AddMount("/agent", in.state, llb.Readonly)
	out := run.AddMount("/out", llb.Scratch())
	def, err := out.Marshal(ctx, llb.Platform(bp))
	if err != nil {
		return nil, err
	}
	res, err := c.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, err
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	data, err := ref.ReadFile(ctx, gwclient.ReadRequest{Filename: indexFile})
	if err != nil {
		return nil, err
	}
	var ix agentIndex
	if err := json.Unmarshal(data, &ix); err != nil {
		return nil, err
	}
	if ix.Unsupported != "" {
		return nil, errors.New(ix.Unsupported)
	}
	in.dir = path.Join(in.dir, ix.Sub)
	return agent.BundleFromIndex(ix.Index, ix.Digest, what, path.Base(what), ix.Version, lazyOpen(ctx, c, in, p, what))
}
