package frontend

import (
	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
)

// stack puts the agent layer and the settings layer on top of base (the
// agent layer alone when settings is scratch: a plan without settings).
//
// Where the builder has MergeOp (buildkitd, buildx's docker-container and
// remote drivers, Docker Engine with the containerd image store) they are
// merged: no step runs in the image (images without a shell work) and the
// agent layer's blob is reused as is, byte for byte the one `jbuild wrap`
// adds. Docker Engine's own builder on graphdriver storage (overlay2, what
// most hosts and hosted CI runners use) disables MergeOp, as BuildKit's
// Dockerfile frontend knows for `COPY --link`: there both layers are
// copied onto the image instead (FileOps, still no step runs in the
// image). A copy keeps each file's owner, mode and link, and the settings
// layer is copied last, so the files are the same as with MergeOp; the
// layer bytes differ (BuildKit makes them).
//
// merged reports which: only a merge keeps the agent layer's own diff ID.
func stack(c gwclient.Client, base, agent, settings llb.State, name string) (st llb.State, merged bool) {
	caps := c.BuildOpts().LLBCaps
	if caps.Supports(pb.CapMergeOp) == nil {
		return llb.Merge([]llb.State{base, agent, settings}, llb.WithCustomName(name)), true
	}
	all := &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true}
	st = base.File(llb.Copy(agent, "/", "/", all), llb.WithCustomName(name+" (copied: the builder has no MergeOp)"))
	if settings.Output() == nil {
		// A plan without settings has no settings layer (layerState gives
		// scratch), as the merge above leaves a scratch input out.
		return st, false
	}
	return st.File(llb.Copy(settings, "/", "/", all), llb.WithCustomName(name+": settings")), false
}
