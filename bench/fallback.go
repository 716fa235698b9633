package main

// The fallback figure of the frontend section: the jbuild frontend on
// Docker Engine's own builder, the builder of `docker build` on most hosts
// and CI runners. Docker Engine 28.5 (built from go.mod's
// github.com/docker/docker, internal/testing/testenv) on overlay2, driven by
// `docker buildx build` (buildx built from its module, its docker driver):
// BuildKit without MergeOp, so the frontend copies the agent and settings
// onto the image with FileOps (frontend/stack.go). Its peer is what a user
// writes by hand for the same image without jbuild: the sample Dockerfile
// with the agent folder COPYed from the build context and -javaagent in
// JAVA_TOOL_OPTIONS, built by the same command on the same builder (the
// builder's own Dockerfile frontend: no `# syntax=` line).

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jbuild-dev/jbuild/frontend"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// Ways of the fallback figure, in report order.
const (
	wayFbImage = "g1" // jbuild frontend, agent image (JENNIFER_AGENT)
	wayFbLocal = "g2" // jbuild frontend, local agent folder (--build-context)
	wayFbHand  = "g3" // hand-written Dockerfile, COPY agent.java
	// g3 with BuildKit's own Dockerfile frontend as its `# syntax=` image
	// (as `# syntax=docker/dockerfile:1` users have it): what starting a
	// `# syntax=` frontend costs on this builder, apart from jbuild's work.
	wayFbHandSyntax = "g4"
)

// fbAgentRoot is where the hand-written Dockerfile puts the agent, the
// folder the jennifer-java profile installs it to.
const fbAgentRoot = "/opt/jennifer/agent.java"

// fbJavaToolOptions is the hand-written JAVA_TOOL_OPTIONS: the sample's
// own option, then the flags the jennifer-java profile adds.
const fbJavaToolOptions = "-Xmx256m -javaagent:" + fbAgentRoot + "/jennifer.jar -Djennifer.config=" + fbAgentRoot + "/conf/jennifer.conf"

type fbWay struct {
	key, label string
	dir        string   // build context
	args       []string // extra `docker buildx build` arguments
	tag        string   // the result, in the daemon's image store
	jbuild     bool     // built by the jbuild frontend
	out        string   // output of the last build
	names      string   // its vertex names, one a line
	last       buildProfile
}

// fbBench is the fallback figure: N rounds of each way, cold-ish and warm.
type fbBench struct {
	d       *testenv.DockerCLI
	server  string // dockerd version
	storage string // its storage driver
	builder string // the builder's driver and BuildKit version
	ways    []*fbWay
	cold    map[string][]time.Duration
	warm    map[string][]time.Duration
	prof    map[string][]buildProfile // of the warm builds (profile.go)
	// skipped says why the figure was not made ("" when it was).
	skipped string
}

// runFallback makes the fallback figure for b (whose setup wrote the
// jbuild build context and pushed the frontend, base and agent images).
// What it needs and cannot have here (root, containerd, the docker CLI,
// dockerd and buildx built from their modules) leaves the figure n/a with
// the reason, not the whole section failed.
func (b *feBench) runFallback(ctx context.Context, tmp string) error {
	fb := &fbBench{cold: map[string][]time.Duration{}, warm: map[string][]time.Duration{}, prof: map[string][]buildProfile{}}
	b.fb = fb
	unavailable := func(err error) error {
		fb.skipped = err.Error()
		logf("WARNING: fallback figure skipped: %v", err)
		return nil
	}
	logf("fallback: building or reusing dockerd (%s) and buildx %s", testenv.DockerdCurrentHint, testenv.BuildxVersion)
	dockerd, err := testenv.DockerdCurrentBinary()
	if err != nil {
		return unavailable(err)
	}
	buildx, err := testenv.BuildxBinary()
	if err != nil {
		return unavailable(err)
	}
	cli, err := testenv.DockerCLIBinary()
	if err != nil {
		return unavailable(err)
	}
	logf("fallback: starting %s (overlay2, trusting %s over plain HTTP)", dockerd, b.reg)
	host, _, stop, err := testenv.StartDockerdBinary(dockerd, b.reg)
	if err != nil {
		return unavailable(err)
	}
	defer stop()
	cfg := filepath.Join(tmp, "fb-docker-config")
	if err := os.MkdirAll(cfg, 0o700); err != nil {
		return err
	}
	if fb.d, err = testenv.NewDockerCLI(cli, buildx, host, cfg); err != nil {
		return err
	}
	if err := fb.setup(b, tmp); err != nil {
		return err
	}
	return fb.runAll(ctx, b.opts.n, b.baseLayers)
}

// setup records what the builder is and writes the build contexts: the
// jbuild ways build f1's context (the sample with the jbuild `# syntax=`
// line), the hand-written one a copy of the sample with the agent added.
func (fb *fbBench) setup(b *feBench, tmp string) error {
	info, err := fb.d.Run("version", "--format", "{{.Server.Version}}")
	if err != nil {
		return fmt.Errorf("%w\n%s", err, info)
	}
	fb.server = strings.TrimSpace(info)
	if info, err = fb.d.Run("info", "--format", "{{.Driver}}"); err != nil {
		return fmt.Errorf("%w\n%s", err, info)
	}
	fb.storage = strings.TrimSpace(info)
	if info, err = fb.d.Run("buildx", "inspect", "--bootstrap"); err != nil {
		return fmt.Errorf("%w\n%s", err, info)
	}
	fb.builder = builderSummary(info)
	logf("fallback: dockerd %s, storage %s, builder %s", fb.server, fb.storage, fb.builder)

	var jbuildDir string
	for _, w := range b.ways {
		if w.key == wayJbuild {
			jbuildDir = w.dir
		}
	}
	app, err := os.ReadFile(filepath.Join(jbuildDir, "app.jar"))
	if err != nil {
		return err
	}
	hand, handSyntax := filepath.Join(tmp, "fb-"+wayFbHand), filepath.Join(tmp, "fb-"+wayFbHandSyntax)
	for dir, syntax := range map[string]string{hand: "", handSyntax: "# syntax=" + b.bkFE + "\n"} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		df := syntax + "FROM " + b.base + "\nCOPY app.jar /app/app.jar\n" +
			"COPY agent.java " + fbAgentRoot + "\n" +
			"ENV JAVA_TOOL_OPTIONS=\"" + fbJavaToolOptions + "\"\n"
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "app.jar"), app, 0o644); err != nil {
			return err
		}
		if err := os.CopyFS(filepath.Join(dir, "agent.java"), os.DirFS(b.agentDir)); err != nil {
			return err
		}
	}
	server := []string{"--build-arg", frontend.ArgServerAddress + "=" + feServerAddress}
	fb.ways = []*fbWay{
		{key: wayFbImage, label: "jbuild frontend, agent image", dir: jbuildDir, jbuild: true,
			args: append([]string{"--build-arg", frontend.ArgAgent + "=" + b.agentRef}, server...)},
		{key: wayFbLocal, label: "jbuild frontend, local agent folder", dir: jbuildDir, jbuild: true,
			args: append([]string{"--build-context", frontend.AgentContext + "=" + b.agentDir}, server...)},
		{key: wayFbHand, label: "hand-written Dockerfile, COPY agent.java", dir: hand},
		{key: wayFbHandSyntax, label: "the same, BuildKit's frontend as # syntax= image", dir: handSyntax},
	}
	for _, w := range fb.ways {
		w.tag = "jbuild-bench/fallback:" + w.key
	}
	return nil
}

// builderSummary is the driver and BuildKit version lines of `docker
// buildx inspect` ("docker, BuildKit v0.25.1").
func builderSummary(inspect string) string {
	var driver, version string
	for _, l := range strings.Split(inspect, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "Driver":
			driver = strings.TrimSpace(v)
		case "BuildKit version", "Buildkit":
			version = strings.TrimSpace(v)
		}
	}
	return driver + ", BuildKit " + version
}

// runAll is feBench.runAll for the fallback ways: a warm-up round with
// output checks, then n rounds of each way cold-ish, then warm.
func (fb *fbBench) runAll(ctx context.Context, n, baseLayers int) error {
	for i := -1; i < n; i++ {
		if i < 0 {
			logf("fallback: warm-up round")
		} else {
			logf("fallback: round %d/%d", i+1, n)
		}
		start := max(i, 0)
		for k := range fb.ways {
			w := fb.ways[(start+k)%len(fb.ways)]
			if err := fb.clean(); err != nil {
				return err
			}
			cold, err := fb.build(ctx, w)
			if err != nil {
				return err
			}
			warm, err := fb.build(ctx, w)
			if err != nil {
				return err
			}
			if i >= 0 {
				fb.cold[w.key] = append(fb.cold[w.key], cold)
				fb.warm[w.key] = append(fb.warm[w.key], warm)
				fb.prof[w.key] = append(fb.prof[w.key], w.last)
			} else if err := fb.verify(w, baseLayers); err != nil {
				return fmt.Errorf("fallback output check: %w", err)
			}
		}
	}
	return fb.clean()
}

// clean makes the next build cold-ish: the bench's images are removed from
// the daemon and the builder's cache is pruned (so the base, the agent
// image and the `# syntax=` image are pulled again). The daemon's content
// store may keep blobs it pulled: this is as cold as a docker driver user
// gets without restarting the daemon.
func (fb *fbBench) clean() error {
	args := []string{"image", "rm", "-f"}
	for _, w := range fb.ways {
		args = append(args, w.tag)
	}
	fb.d.Run(args...) // absent images are not an error here
	if out, err := fb.d.Run("buildx", "prune", "--all", "--force"); err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	return nil
}

// build runs `docker buildx build` of w on the default builder (the docker
// driver), tagging the result in the daemon, and returns its wall time: the
// whole command as a user runs it (CLI and plugin start, context upload,
// frontend, solve, export into the image store). Its progress is read as
// rawjson: the vertices are in w.last, their names in w.names.
func (fb *fbBench) build(ctx context.Context, w *fbWay) (time.Duration, error) {
	args := append([]string{"buildx", "build", "--progress=rawjson", "-t", w.tag}, w.args...)
	args = append(args, w.dir)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := fb.d.Command(ctx, nil, args...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	w.out = string(out)
	var vl vertexLog
	vl.parseRawJSON(out)
	w.last, w.names = vl.profile(start, d), vl.names()
	if err != nil {
		return 0, fmt.Errorf("fallback %s: docker %s: %w\n%s", w.label, strings.Join(args, " "), err, out)
	}
	return d, nil
}

// verify checks the warm-up's results in the daemon: every way has the
// agent flag after the sample's -Xmx256m; the jbuild ways copied the agent
// (the builder has no MergeOp) into two layers of their own (agent,
// settings), the hand-written one into one.
func (fb *fbBench) verify(w *fbWay, baseLayers int) error {
	out, err := fb.d.Run("image", "inspect", "--format", "{{len .RootFS.Layers}} {{range .Config.Env}}{{println .}}{{end}}", w.tag)
	if err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	var layers int
	if _, err := fmt.Sscan(out, &layers); err != nil {
		return fmt.Errorf("%s: layer count in %q: %w", w.tag, out, err)
	}
	var opts string
	for _, l := range strings.Split(out, "\n") {
		if _, v, ok := strings.Cut(l, "JAVA_TOOL_OPTIONS="); ok {
			opts = strings.TrimSpace(v)
		}
	}
	want := baseLayers + 2 // app.jar, agent.java
	if w.jbuild {
		want = baseLayers + 3 // app.jar, agent, settings
		if !strings.Contains(w.names, "(copied: the builder has no MergeOp)") {
			return fmt.Errorf("%s (%s): the build did not copy the agent; its steps:\n%s", w.tag, w.label, w.names)
		}
	}
	if layers != want {
		return fmt.Errorf("%s (%s): %d layers, want %d", w.tag, w.label, layers, want)
	}
	if !strings.HasPrefix(opts, "-Xmx256m ") || strings.Count(opts, "-javaagent:") != 1 {
		return fmt.Errorf("%s (%s): JAVA_TOOL_OPTIONS=%q, want -Xmx256m then one -javaagent", w.tag, w.label, opts)
	}
	logf("fallback output check: %s (%s) ok: %d layers, JAVA_TOOL_OPTIONS=%q", w.tag, w.label, layers, opts)
	return nil
}
