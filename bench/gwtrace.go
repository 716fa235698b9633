package main

// With -profile, the jbuild frontend also runs in process (frontend.Build
// through the client's Build, no `# syntax=` image, so no frontend
// container) on f3's context (the sample without a `# syntax=` line), warm,
// its gateway calls timed by a wrapping gwclient.Client: what the frontend
// waits for in a warm build, call by call, which the vertices do not show.

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	fstypes "github.com/tonistiigi/fsutil/types"

	"github.com/jbuild-dev/jbuild/frontend"
)

// gwCall is one timed gateway call.
type gwCall struct {
	what     string
	off, dur time.Duration
}

// gwTrace records the calls of one build.
type gwTrace struct {
	start time.Time
	mu    sync.Mutex
	calls []gwCall
	n     map[string]int
}

func (t *gwTrace) record(what string, start time.Time) {
	t.add(what, start.Sub(t.start), time.Since(start))
}

func (t *gwTrace) add(what string, off, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == nil {
		t.n = map[string]int{}
	}
	// The k-th call of the same kind keeps its own row.
	t.n[what]++
	if k := t.n[what]; k > 1 {
		what = fmt.Sprintf("%s #%d", what, k)
	}
	t.calls = append(t.calls, gwCall{what: what, off: off, dur: d})
}

type tracedClient struct {
	gwclient.Client
	t *gwTrace
}

func (c *tracedClient) Solve(ctx context.Context, req gwclient.SolveRequest) (*gwclient.Result, error) {
	defer c.t.record("Solve", time.Now())
	res, err := c.Client.Solve(ctx, req)
	if err != nil || res == nil {
		return res, err
	}
	if res.Ref != nil {
		res.Ref = &tracedRef{res.Ref, c.t}
	}
	for k, r := range res.Refs {
		if r != nil {
			res.Refs[k] = &tracedRef{r, c.t}
		}
	}
	return res, nil
}

func (c *tracedClient) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	defer c.t.record("ResolveImageConfig "+ref, time.Now())
	return c.Client.ResolveImageConfig(ctx, ref, opt)
}

func (c *tracedClient) ResolveSourceMetadata(ctx context.Context, op *pb.SourceOp, opt sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	defer c.t.record("ResolveSourceMetadata "+op.Identifier, time.Now())
	return c.Client.ResolveSourceMetadata(ctx, op, opt)
}

func (c *tracedClient) Inputs(ctx context.Context) (map[string]llb.State, error) {
	defer c.t.record("Inputs", time.Now())
	return c.Client.Inputs(ctx)
}

func (c *tracedClient) Warn(ctx context.Context, dgst digest.Digest, msg string, opts gwclient.WarnOpts) error {
	defer c.t.record("Warn", time.Now())
	return c.Client.Warn(ctx, dgst, msg, opts)
}

type tracedRef struct {
	gwclient.Reference
	t *gwTrace
}

func (r *tracedRef) Evaluate(ctx context.Context) error {
	defer r.t.record("ref.Evaluate", time.Now())
	return r.Reference.Evaluate(ctx)
}

func (r *tracedRef) ReadFile(ctx context.Context, req gwclient.ReadRequest) ([]byte, error) {
	defer r.t.record("ref.ReadFile "+req.Filename, time.Now())
	return r.Reference.ReadFile(ctx, req)
}

func (r *tracedRef) StatFile(ctx context.Context, req gwclient.StatRequest) (*fstypes.Stat, error) {
	defer r.t.record("ref.StatFile "+req.Path, time.Now())
	return r.Reference.StatFile(ctx, req)
}

func (r *tracedRef) ReadDir(ctx context.Context, req gwclient.ReadDirRequest) ([]*fstypes.Stat, error) {
	defer r.t.record("ref.ReadDir "+req.Path, time.Now())
	return r.Reference.ReadDir(ctx, req)
}

// traceInProcess runs the jbuild frontend in process on way w's context
// (which must have no `# syntax=` line) n+1 times, warm (the first run is
// recorded apart: the frontend's code runs for the first time in this
// process, as in every build of the frontend image), and returns the
// traces and the build times, the first run's first.
func (b *feBench) traceInProcess(ctx context.Context, w *feWay, n int) ([]*gwTrace, []time.Duration, error) {
	var traces []*gwTrace
	var totals []time.Duration
	for i := -1; i < n; i++ {
		opt, err := b.solveOpt(w)
		if err != nil {
			return nil, nil, err
		}
		opt.Frontend = ""
		t := &gwTrace{}
		var inner time.Duration
		start := time.Now()
		_, err = b.c.Build(ctx, opt, "jbuild-bench", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
			t.start = time.Now()
			defer func() { inner = time.Since(t.start) }()
			res, err := frontend.Build(ctx, &tracedClient{gw, t})
			return untraced(res), err
		}, drain())
		d := time.Since(start)
		if err != nil {
			return nil, nil, fmt.Errorf("in-process jbuild frontend: %w", err)
		}
		t.add("(frontend.Build returns)", inner, 0)
		traces = append(traces, t)
		totals = append(totals, d)
	}
	return traces, totals, nil
}

// untraced gives res back the client's own references (Build takes no
// other).
func untraced(res *gwclient.Result) *gwclient.Result {
	if res == nil {
		return nil
	}
	if r, ok := res.Ref.(*tracedRef); ok {
		res.Ref = r.Reference
	}
	for k, v := range res.Refs {
		if r, ok := v.(*tracedRef); ok {
			res.Refs[k] = r.Reference
		}
	}
	return res
}

// printTraces prints the calls of traces: median start after the frontend
// started and median duration, by call.
func printTraces(w io.Writer, title string, traces []*gwTrace, totals []time.Duration) {
	fmt.Fprintf(w, "\nprofile, the jbuild frontend in process (no frontend container), warm cache, f3's context, %s: gateway calls of %d builds, median build %s\n", title, len(traces), secs(median(totals)))
	type agg struct{ offs, durs []time.Duration }
	by := map[string]*agg{}
	var order []string
	for _, t := range traces {
		for _, c := range t.calls {
			a, ok := by[c.what]
			if !ok {
				a = &agg{}
				by[c.what] = a
				order = append(order, c.what)
			}
			a.offs, a.durs = append(a.offs, c.off), append(a.durs, c.dur)
		}
	}
	slices.SortStableFunc(order, func(x, y string) int { return int(median(by[x].offs) - median(by[y].offs)) })
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  start\tduration\tin builds\tcall\t")
	for _, k := range order {
		a := by[k]
		fmt.Fprintf(tw, "  %s\t%s\t%d/%d\t%s\t\n", secs(median(a.offs)), secs(median(a.durs)), len(a.offs), len(traces), shorten(k, 110))
	}
	tw.Flush()
}

// Kept in step with gwclient.Client and Reference.
var (
	_ gwclient.Client    = (*tracedClient)(nil)
	_ gwclient.Reference = (*tracedRef)(nil)
)
