package frontend

import (
	"context"
	"fmt"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// warnPrefix starts every warning the frontend reports, so a build's output
// tells jbuild's warnings from the Dockerfile's lint warnings.
const warnPrefix = "jbuild: "

// reportWarnings reports the warnings of one platform's plan (what
// `jbuild wrap` prints as "warning: ..." lines) to the client. BuildKit with
// the gateway.warnings capability gets them as build warnings, as its
// Dockerfile frontend reports lint warnings (docker buildx prints them at
// the end of the build; client.SolveStatus.Warnings), on the vertex that
// adds the agent: st, the state solved for platform p. A BuildKit without it
// gets each one as a progress line of its own (a vertex named after the
// warning). multi: the build has more than one platform, so each warning
// names its platform.
func reportWarnings(ctx context.Context, c gwclient.Client, st llb.State, p ocispecs.Platform, plan *buildplan.Plan, multi bool) error {
	if plan == nil || len(plan.Warnings) == 0 {
		return nil
	}
	msgs := make([]string, len(plan.Warnings))
	for i, w := range plan.Warnings {
		msgs[i] = warnPrefix + w
		if multi {
			msgs[i] = fmt.Sprintf("%s%s: %s", warnPrefix, platformString(p), w)
		}
	}
	caps := c.BuildOpts().Caps
	if caps.Supports(gwpb.CapGatewayWarnings) == nil {
		def, err := st.Marshal(ctx, llb.Platform(p))
		if err != nil {
			return err
		}
		dgst, err := def.Head()
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if err := c.Warn(ctx, dgst, m, gwclient.WarnOpts{Level: 1}); err != nil {
				return fmt.Errorf("reporting the warning %q: %w", m, err)
			}
		}
		return nil
	}
	for _, m := range msgs {
		// Solving an empty FileOp shows its name as a line of the build's
		// progress and costs nothing (cached after the first build).
		note := llb.Scratch().File(llb.Mkdir("/.jbuild-warning", 0o755), llb.WithCustomName("[jbuild] warning: "+m))
		def, err := note.Marshal(ctx, llb.Platform(p))
		if err != nil {
			return err
		}
		if _, err := c.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB(), Evaluate: true}); err != nil {
			return fmt.Errorf("reporting the warning %q: %w", m, err)
		}
	}
	return nil
}
