package frontend

import (
	"context"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// warningsOf returns the build warnings a build reported to the client (what
// docker buildx prints after the build), jbuild's own only when mine is set.
func warningsOf(r *buildResult, mine bool) []string {
	var ws []string
	for _, s := range r.statuses {
		for _, w := range s.Warnings {
			m := string(w.Short)
			if mine && !strings.HasPrefix(m, warnPrefix) {
				continue
			}
			ws = append(ws, m)
		}
	}
	return ws
}

// The plan's warnings are BuildKit build warnings, as `jbuild wrap` prints
// them: a server address of 127.0.0.1 points at the container itself, and
// the build says so; a normal address gives no jbuild warning.
func TestFrontendReportsPlanWarnings(t *testing.T) {
	reg := testenv.RealRegistry(t)
	testenv.PushJavaLike(t, reg+"/fe/javabase:warn")
	df := "FROM " + reg + "/fe/javabase:warn\nCOPY app.jar /app/app.jar\n"

	loop := build{
		dockerfile: df,
		files:      map[string]string{"app.jar": "warn"},
		args:       map[string]string{ArgServerAddress: "127.0.0.1"},
		agentDir:   sampleAgentDir(t),
	}.mustRun(t)
	ws := warningsOf(loop, true)
	found := false
	for _, w := range ws {
		if strings.Contains(w, "127.0.0.1") && strings.Contains(w, "points at the container itself") {
			found = true
		}
	}
	if !found {
		t.Errorf("JENNIFER_SERVER_ADDRESS=127.0.0.1: build warnings %q, want one naming 127.0.0.1 (the container itself)", warningsOf(loop, false))
	}

	normal := build{
		dockerfile: df,
		files:      map[string]string{"app.jar": "warn"},
		args:       map[string]string{ArgServerAddress: "10.0.0.5"},
		agentDir:   sampleAgentDir(t),
	}.mustRun(t)
	if ws := warningsOf(normal, true); len(ws) > 0 {
		t.Errorf("JENNIFER_SERVER_ADDRESS=10.0.0.5: jbuild warnings %q, want none", ws)
	}
}

// warnClient records what reportWarnings sends: build warnings, or solves
// of the progress-line vertices.
type warnClient struct {
	gwclient.Client
	caps   apicaps.CapSet
	warned []string
	solved []string
}

func (c *warnClient) BuildOpts() gwclient.BuildOpts { return gwclient.BuildOpts{Caps: c.caps} }

func (c *warnClient) Warn(ctx context.Context, dgst digest.Digest, msg string, opts gwclient.WarnOpts) error {
	c.warned = append(c.warned, msg)
	return nil
}

func (c *warnClient) Solve(ctx context.Context, req gwclient.SolveRequest) (*gwclient.Result, error) {
	for _, dt := range req.Definition.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return nil, err
		}
		if op.GetFile() != nil {
			c.solved = append(c.solved, req.Definition.Metadata[digest.FromBytes(dt).String()].Description["llb.customname"])
		}
	}
	return gwclient.NewResult(), nil
}

// A BuildKit without the gateway.warnings capability gets each warning as a
// progress line (a vertex named after it); one with it, build warnings. With
// more than one platform, each warning names its platform.
func TestReportWarningsFallsBackToProgress(t *testing.T) {
	ctx := context.Background()
	plan := &buildplan.Plan{Warnings: []string{"server_address = 127.0.0.1 points at the container itself"}}
	p := ocispecs.Platform{OS: "linux", Architecture: "arm64"}

	old := &warnClient{caps: gwpb.Caps.CapSet(nil)}
	if err := reportWarnings(ctx, old, llb.Scratch(), p, plan, true); err != nil {
		t.Fatal(err)
	}
	want := "[jbuild] warning: jbuild: linux/arm64: server_address = 127.0.0.1 points at the container itself"
	if len(old.warned) != 0 || len(old.solved) != 1 || old.solved[0] != want {
		t.Errorf("no gateway.warnings: warned %q, progress %q; want progress %q", old.warned, old.solved, want)
	}

	cur := &warnClient{caps: gwpb.Caps.CapSet(gwpb.Caps.All())}
	if err := reportWarnings(ctx, cur, llb.Scratch(), p, plan, false); err != nil {
		t.Fatal(err)
	}
	if len(cur.solved) != 0 || len(cur.warned) != 1 || cur.warned[0] != "jbuild: "+plan.Warnings[0] {
		t.Errorf("gateway.warnings: warned %q, progress %q", cur.warned, cur.solved)
	}
}
