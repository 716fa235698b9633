package frontend

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// builderCap is what jbuild knows about an LLB capability its steps may
// need: since when builders have it, and what to do on one that has not.
type builderCap struct {
	buildkit string // the first BuildKit release with it
	docker   string // the first Docker Engine release whose builder has it
	why      string // what in the build needs it
	instead  string // a way around it on the same builder, if any
}

// knownCaps are the capabilities the injection steps may need beyond what
// BuildKit 0.8 (Docker Engine 20.10's builder) has. MergeOp is not here:
// without it the layers are copied (see stack).
var knownCaps = map[apicaps.CapID]builderCap{
	// An agent folder passed as a build context is laid out file by
	// file; its symbolic links are made with FileOp's symlink action.
	// BuildKit 0.8 to 0.18 (Docker Engine 20.10 to 27.x) cannot make
	// them ("invalid action type <nil>"): there the agent's links are
	// copied from the folder instead (layerState), so this is only met by
	// a link that is not in the folder. An agent image (`jbuild agent
	// push`) brings its links in its own layer, which a copy keeps.
	pb.CapFileSymlinkCreate: {
		buildkit: "v0.19", docker: "28.0",
		why:     "the agent folder has symbolic links, which the agent layer makes with a FileOp symlink action",
		instead: fmt.Sprintf("publish the agent as an image with `jbuild agent push` and pass --build-arg %s=<image> instead of the %s build context (an image keeps its links)", ArgAgent, AgentContext),
	},
}

// checkBuilderCaps fails early, with what to do, when the steps that add
// the agent (st, built on base) need an LLB capability the builder does
// not have, instead of letting the builder fail on the LLB with a message
// that names neither jbuild nor a remedy ("invalid action type <nil>" on
// BuildKit 0.8). Only the ops st adds to base are checked: base is the
// Dockerfile build, which BuildKit's Dockerfile frontend already fitted to
// the builder.
func checkBuilderCaps(ctx context.Context, c gwclient.Client, base, st llb.State, p ocispecs.Platform) error {
	caps := c.BuildOpts().LLBCaps
	bdef, err := base.Marshal(ctx, llb.Platform(p))
	if err != nil {
		return err
	}
	inBase := map[digest.Digest]bool{}
	for _, dt := range bdef.Def {
		inBase[digest.FromBytes(dt)] = true
	}
	def, err := st.Marshal(ctx, llb.Platform(p))
	if err != nil {
		return err
	}
	type need struct {
		id   apicaps.CapID
		step string
	}
	var missing []need
	for _, dt := range def.Def {
		dgst := digest.FromBytes(dt)
		if inBase[dgst] {
			continue
		}
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return fmt.Errorf("reading the LLB of the injection: %w", err)
		}
		md := def.Metadata[dgst]
		for _, id := range opCaps(&op, md) {
			if caps.Supports(id) != nil {
				missing = append(missing, need{id, md.Description["llb.customname"]})
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	m := slices.MinFunc(missing, func(a, b need) int {
		return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(a.step, b.step))
	})
	return capError(m.id, m.step, caps.Supports(m.id))
}

// opCaps are the capabilities op needs: those its metadata records, and
// those the LLB client does not record (llb's FileOp does not add its
// actions' capabilities to the metadata, file.symlink.create included, as
// of BuildKit v0.34).
func opCaps(op *pb.Op, md llb.OpMetadata) []apicaps.CapID {
	var ids []apicaps.CapID
	for id, on := range md.Caps {
		if on {
			ids = append(ids, id)
		}
	}
	switch {
	case op.GetMerge() != nil:
		ids = append(ids, pb.CapMergeOp)
	case op.GetDiff() != nil:
		ids = append(ids, pb.CapDiffOp)
	case op.GetFile() != nil:
		for _, a := range op.GetFile().GetActions() {
			if a.GetSymlink() != nil {
				ids = append(ids, pb.CapFileSymlinkCreate)
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// capError is jbuild's message for a builder without capability id, which
// step needs: "doing what: what is missing, what needs it, who has it;
// what to do".
func capError(id apicaps.CapID, step string, cause error) error {
	if step == "" {
		step = "[jbuild] add the agent"
	}
	k, known := knownCaps[id]
	what := "this builder lacks the LLB capability " + string(id)
	newer := "a newer Docker Engine or BuildKit"
	if known {
		what += fmt.Sprintf(": %s; BuildKit %s and Docker Engine %s have it", k.why, k.buildkit, k.docker)
		newer = "Docker Engine " + k.docker + " or later"
	}
	hint := "build on " + newer + ", or on a BuildKit daemon of its own (`docker buildx create --driver docker-container`," +
		" or `--driver remote` on a buildkitd); or build the image without the jbuild frontend and add the agent with" +
		" `jbuild wrap docker-daemon:IMAGE`"
	if known && k.instead != "" {
		hint = k.instead + "; or " + hint
	}
	return &capMissingError{msg: fmt.Sprintf("adding the agent (%s): %s; %s", step, what, hint), cause: cause}
}

// capMissingError is capError's error: jbuild's message, which says more
// than BuildKit's CapError ("... is not supported by build server, please
// update "), wrapping it.
type capMissingError struct {
	msg   string
	cause error
}

func (e *capMissingError) Error() string { return e.msg }
func (e *capMissingError) Unwrap() error { return e.cause }
