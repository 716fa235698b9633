package main

// The frontend section: one sample Dockerfile built on one buildkitd, cold
// and warm, three ways (the jbuild frontend as a `# syntax=` image,
// BuildKit's own Dockerfile frontend built from the pinned module and
// invoked the same way, and the built-in dockerfile.v0), plus the cold pull
// of the agent image alone. Report in frontend_report.go.

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/tonistiigi/fsutil"

	"github.com/jbuild-dev/jbuild/frontend"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/goimage"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/jbuild-dev/jbuild/templates"
)

// buildkitFrontendPkg is BuildKit's own Dockerfile frontend (the
// docker/dockerfile image's binary), compiled from the pinned module.
const buildkitFrontendPkg = "github.com/moby/buildkit/frontend/dockerfile/cmd/dockerfile-frontend"

// Ways to build the sample, in report order.
const (
	wayJbuild   = "f1"
	wayBuildkit = "f2"
	wayBuiltin  = "f3"
	keyAgent    = "f4" // the agent image pulled alone
)

// feServerAddress is JENNIFER_SERVER_ADDRESS of every build.
const feServerAddress = "10.0.0.5"

type feWay struct {
	key, label string
	syntax     string // `# syntax=` image; "" for the built-in dockerfile.v0
	dir        string // build context: Dockerfile and app.jar
	out        string // where the result is pushed
	digest     string // of the last pushed result
	last       buildProfile
	lastTicks  machineTicks // the machine's CPU during the last build
}

type feBench struct {
	opts     options
	reg      string
	addr     string // buildkitd
	c        *client.Client
	base     string
	agentRef string
	agentDir string // the agent image's folder (agent.java)
	bkFE     string // BuildKit's Dockerfile frontend image (f2's # syntax=)

	baseLayers   int
	agentLayer   int64            // compressed size of the agent layer
	feImageSizes map[string]int64 // compressed frontend image layer, per way

	ways []*feWay
	cold map[string][]time.Duration
	warm map[string][]time.Duration
	prof map[string][]buildProfile // of the warm builds (profile.go)
	// busy: how busy the machine was during each way's builds, by way and
	// "cold" or "warm", summed over the recorded rounds (machinecpu.go).
	busy map[string]machineTicks
	// traces, traceTotals: -profile's in-process runs (gwtrace.go).
	traces      []*gwTrace
	traceTotals []time.Duration

	fb *fbBench // the fallback figure (fallback.go); nil with -fallback=false
}

// runFrontend is the frontend section.
func runFrontend(o options, reg, tmp string) error {
	ctx := context.Background()
	logf("frontend: starting buildkitd (trusting %s over plain HTTP)", reg)
	addr, stop, err := testenv.StartBuildkitd(reg)
	if err != nil {
		return err
	}
	defer stop()
	c, err := client.New(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()

	b := &feBench{opts: o, reg: reg, addr: addr, c: c,
		base: reg + "/bench/javabase:1", agentRef: reg + "/bench/agent:java",
		feImageSizes: map[string]int64{},
		cold:         map[string][]time.Duration{}, warm: map[string][]time.Duration{}, prof: map[string][]buildProfile{},
		busy: map[string]machineTicks{}}
	if err := b.setup(ctx, tmp); err != nil {
		return err
	}
	if err := b.runAll(ctx); err != nil {
		return fmt.Errorf("%w\nbuildkitd log:\n%s", err, testenv.BuildkitdLog(addr, 4096))
	}
	if o.profile {
		for _, w := range b.ways {
			if w.key != wayBuiltin {
				continue
			}
			in := *w
			in.out += "-inprocess-jbuild"
			logf("frontend: profile: the jbuild frontend in process on %s's context, %d warm builds", w.key, o.n)
			if b.traces, b.traceTotals, err = b.traceInProcess(ctx, &in, o.n); err != nil {
				return err
			}
		}
	}
	if o.fallback {
		if err := b.runFallback(ctx, tmp); err != nil {
			return err
		}
	}
	b.report(os.Stdout)
	return nil
}

// setup pushes the two frontend images, the base image and the agent image,
// and writes one build context per way. Not timed.
func (b *feBench) setup(ctx context.Context, tmp string) error {
	host := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	jbuildFE, bkFE := b.reg+"/bench/jbuild-frontend:1", b.reg+"/bench/dockerfile-frontend:1"
	b.bkFE = bkFE
	for _, fe := range []struct{ key, pkg, ref string }{
		{wayJbuild, goimage.Frontend.Package, jbuildFE},
		{wayBuildkit, buildkitFrontendPkg, bkFE},
	} {
		logf("frontend: building %s into %s", fe.pkg, fe.ref)
		size, err := pushFrontend(ctx, fe.pkg, fe.ref, host)
		if err != nil {
			return err
		}
		b.feImageSizes[fe.key] = size
	}

	logf("frontend: pushing the Java-like base %s", b.base)
	base, err := testenv.JavaLikeImage(host)
	if err != nil {
		return err
	}
	if err := writeImage(b.base, base); err != nil {
		return err
	}
	ls, err := base.Layers()
	if err != nil {
		return err
	}
	b.baseLayers = len(ls)

	logf("frontend: pushing a %d MB agent image to %s", b.opts.agentMB, b.agentRef)
	if b.agentDir, b.agentLayer, err = pushAgentImage(ctx, filepath.Join(tmp, "fe-agent"), b.agentRef, int64(b.opts.agentMB)<<20); err != nil {
		return err
	}

	app := make([]byte, b.opts.appKB<<10)
	crand.Read(app)
	for _, w := range []*feWay{
		{key: wayJbuild, label: "jbuild frontend, # syntax= image", syntax: jbuildFE},
		{key: wayBuildkit, label: "BuildKit Dockerfile frontend, # syntax= image", syntax: bkFE},
		{key: wayBuiltin, label: "built-in dockerfile.v0"},
	} {
		w.dir = filepath.Join(tmp, "fe-"+w.key)
		w.out = fmt.Sprintf("%s/bench/app:%s", b.reg, w.key)
		if err := os.MkdirAll(w.dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(w.dir, "Dockerfile"), []byte(b.dockerfile(w.syntax)), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(w.dir, "app.jar"), app, 0o644); err != nil {
			return err
		}
		b.ways = append(b.ways, w)
	}
	return nil
}

// dockerfile is the sample; only the `# syntax=` line differs between ways.
func (b *feBench) dockerfile(syntax string) string {
	var s strings.Builder
	if syntax != "" {
		s.WriteString("# syntax=" + syntax + "\n")
	}
	s.WriteString("FROM " + b.base + "\nCOPY app.jar /app/app.jar\nENV JAVA_TOOL_OPTIONS=-Xmx256m\n")
	return s.String()
}

// pushFrontend builds a frontend image of pkg for the host platform with
// internal/goimage and pushes it to ref; it returns the compressed
// size of its layer.
func pushFrontend(ctx context.Context, pkg, ref string, p v1.Platform) (int64, error) {
	idx, err := goimage.Frontend.Build(ctx, goimage.Options{
		Package:   pkg,
		Platforms: []v1.Platform{p},
		Version:   "bench",
		Log:       os.Stderr,
	})
	if err != nil {
		return 0, err
	}
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return 0, err
	}
	if err := remote.WriteIndex(r, idx, remote.WithContext(ctx)); err != nil {
		return 0, fmt.Errorf("pushing %s: %w", ref, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return 0, err
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		return 0, err
	}
	return layersSize(img)
}

// pushAgentImage writes a new agent folder of about size bytes under dir
// and pushes it as `jbuild agent push` does (wrap.AgentImage); it returns
// the agent folder and the compressed size of the agent layer.
func pushAgentImage(ctx context.Context, dir, ref string, size int64) (string, int64, error) {
	agentDir, err := newSplitAgent(dir, size)
	if err != nil {
		return "", 0, err
	}
	cache := filepath.Join(dir, "cache")
	src, err := agent.Open(ctx, agentDir, agent.Options{BundleRoot: []string{"agent.java"}, CacheDir: cache})
	if err != nil {
		return "", 0, err
	}
	bundle, err := src.Bundle(ctx, nil)
	if err != nil {
		return "", 0, err
	}
	prof, err := templates.Lookup("jennifer-java")
	if err != nil {
		return "", 0, err
	}
	art, err := wrap.AgentImage(prof, []wrap.PlatformBundle{{Bundle: bundle}}, agentlayer.Options{CacheDir: cache})
	if err != nil {
		return "", 0, err
	}
	r, err := transport.Parse(ref)
	if err != nil {
		return "", 0, err
	}
	st, err := transport.Open(r, transport.Options{})
	if err != nil {
		return "", 0, err
	}
	defer st.Close()
	if err := st.Put(ctx, art); err != nil {
		return "", 0, fmt.Errorf("pushing agent image %s: %w", ref, err)
	}
	n, err := layersSize(art.Image)
	return agentDir, n, err
}

// agentFileMax caps each file of the frontend section's agent: the jbuild
// frontend reads agent files through the gateway's ReadFile, which BuildKit
// refuses for a file over 16 MiB (its gRPC message size), so the wrap
// section's single 20 MB jennifer.jar fails the build.
const agentFileMax = 8 << 20

// newSplitAgent writes an agent.java folder under parent of about size
// bytes: the sample conf/jennifer.conf, jennifer.jar and, past
// agentFileMax, lib/part-N.jar, all random (incompressible) bytes.
func newSplitAgent(parent string, size int64) (string, error) {
	a, err := newAgent(parent, min(size, agentFileMax))
	if err != nil {
		return "", err
	}
	for n := 1; size > agentFileMax; n++ {
		size -= agentFileMax
		part := make([]byte, min(size, agentFileMax))
		crand.Read(part)
		p := filepath.Join(a.dir, "lib", fmt.Sprintf("part-%d.jar", n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, part, 0o644); err != nil {
			return "", err
		}
	}
	return a.dir, nil
}

func layersSize(img v1.Image) (int64, error) {
	ls, err := img.Layers()
	if err != nil {
		return 0, err
	}
	var n int64
	for _, l := range ls {
		s, err := l.Size()
		if err != nil {
			return 0, err
		}
		n += s
	}
	return n, nil
}

func writeImage(ref string, img v1.Image) error {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return err
	}
	if err := remote.Write(r, img); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	return nil
}

// runAll: a warm-up round (not recorded) and output checks, then N rounds.
// Each round builds every way cold (right after pruning all of BuildKit's
// cache) then warm (the same build again), starting with another way each
// round, and times the cold pull of the agent image alone.
// feWarmPerRound is how many warm builds each round takes of each way.
const feWarmPerRound = 3

func (b *feBench) runAll(ctx context.Context) error {
	for i := -1; i < b.opts.n; i++ {
		if i < 0 {
			logf("frontend: warm-up round")
		} else {
			logf("frontend: round %d/%d", i+1, b.opts.n)
		}
		start := max(i, 0)
		for k := range b.ways {
			w := b.ways[(start+k)%len(b.ways)]
			cold, err := b.coldBuild(ctx, w)
			if err != nil {
				return err
			}
			if i >= 0 {
				b.busy[w.key+" cold"] = b.busy[w.key+" cold"].plus(w.lastTicks)
			}
			// A warm build is short (~0.15 s) and its run-to-run spread
			// large next to the 10% the target allows: each round takes
			// feWarmPerRound of them, so the median stands on n times
			// that many.
			for range feWarmPerRound {
				warm, err := b.build(ctx, w)
				if err != nil {
					return err
				}
				if i >= 0 {
					b.warm[w.key] = append(b.warm[w.key], warm)
					b.prof[w.key] = append(b.prof[w.key], w.last)
					b.busy[w.key+" warm"] = b.busy[w.key+" warm"].plus(w.lastTicks)
				}
			}
			if i >= 0 {
				b.cold[w.key] = append(b.cold[w.key], cold)
			}
		}
		if err := b.prune(ctx); err != nil {
			return err
		}
		d, err := b.pullAgent(ctx)
		if err != nil {
			return err
		}
		if i >= 0 {
			b.cold[keyAgent] = append(b.cold[keyAgent], d)
		}
		if i < 0 {
			if err := b.verify(); err != nil {
				return fmt.Errorf("frontend output check: %w", err)
			}
		}
	}
	return nil
}

func (b *feBench) prune(ctx context.Context) error {
	if err := b.c.Prune(ctx, nil, client.PruneAll); err != nil {
		return fmt.Errorf("pruning the BuildKit cache: %w", err)
	}
	return nil
}

func (b *feBench) coldBuild(ctx context.Context, w *feWay) (time.Duration, error) {
	if err := b.prune(ctx); err != nil {
		return 0, err
	}
	return b.build(ctx, w)
}

// build runs one build of way w, pushing the result, and returns its wall
// time (the client's Solve call: session, frontend, solve, export, push);
// its vertices are in w.last.
func (b *feBench) build(ctx context.Context, w *feWay) (time.Duration, error) {
	opt, err := b.solveOpt(w)
	if err != nil {
		return 0, err
	}
	var vl vertexLog
	ticks := readMachineTicks()
	start := time.Now()
	resp, err := b.c.Solve(ctx, nil, opt, vl.collect())
	d := time.Since(start)
	w.lastTicks = readMachineTicks().minus(ticks)
	w.last = vl.profile(start, d)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", w.label, err)
	}
	w.digest = resp.ExporterResponse["containerimage.digest"]
	return d, nil
}

// solveOpt is the build of way w: dockerfile.v0 on its context with the
// bench's build args, the result pushed to w.out.
func (b *feBench) solveOpt(w *feWay) (client.SolveOpt, error) {
	fsys, err := fsutil.NewFS(w.dir)
	if err != nil {
		return client.SolveOpt{}, err
	}
	return client.SolveOpt{
		Frontend:    "dockerfile.v0",
		LocalMounts: map[string]fsutil.FS{"context": fsys, "dockerfile": fsys},
		FrontendAttrs: map[string]string{
			"filename":                               "Dockerfile",
			"build-arg:" + frontend.ArgAgent:         b.agentRef,
			"build-arg:" + frontend.ArgServerAddress: feServerAddress,
		},
		Exports: []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{
			"name": w.out, "push": "true", "registry.insecure": "true",
		}}},
	}, nil
}

// pullAgent times BuildKit pulling and unpacking the agent image alone
// (call it after a prune): the extra a cold jbuild build fetches.
func (b *feBench) pullAgent(ctx context.Context) (time.Duration, error) {
	root := "/opt/jennifer/agent.java/jennifer.jar"
	start := time.Now()
	_, err := b.c.Build(ctx, client.SolveOpt{}, "jbuild-bench", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
		def, err := llb.Image(b.agentRef).Marshal(ctx)
		if err != nil {
			return nil, err
		}
		res, err := gw.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB()})
		if err != nil {
			return nil, err
		}
		ref, err := res.SingleRef()
		if err != nil {
			return nil, err
		}
		// Reading a file mounts the image: its layer is pulled and unpacked.
		if _, err := ref.StatFile(ctx, gwclient.StatRequest{Path: root}); err != nil {
			return nil, fmt.Errorf("agent image %s: %w", b.agentRef, err)
		}
		return gwclient.NewResult(), nil
	}, drain())
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("pulling the agent image: %w", err)
	}
	return d, nil
}

// drain returns a status channel that is read and discarded.
func drain() chan *client.SolveStatus {
	ch := make(chan *client.SolveStatus)
	go func() {
		for range ch {
		}
	}()
	return ch
}

// verify checks the warm-up's outputs: the jbuild build added the agent
// and settings layers and -javaagent to JAVA_TOOL_OPTIONS (keeping
// -Xmx256m); the other two added the COPY layer only and no agent.
func (b *feBench) verify() error {
	for _, w := range b.ways {
		layers, opts, err := inspect(w.out)
		if err != nil {
			return err
		}
		want, agent := b.baseLayers+1, false
		if w.key == wayJbuild {
			want, agent = b.baseLayers+3, true
		}
		if layers != want {
			return fmt.Errorf("%s (%s): %d layers, want %d", w.out, w.label, layers, want)
		}
		if strings.Contains(opts, "-javaagent:") != agent || !strings.Contains(opts, "-Xmx256m") {
			return fmt.Errorf("%s (%s): JAVA_TOOL_OPTIONS=%q, want -Xmx256m and agent=%v", w.out, w.label, opts, agent)
		}
		logf("frontend output check: %s (%s) ok: %d layers, JAVA_TOOL_OPTIONS=%q, %s", w.out, w.label, layers, opts, w.digest)
	}
	return nil
}
