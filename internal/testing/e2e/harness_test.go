package e2e

import (
	"context"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/imagefs"
	"github.com/jbuild-dev/jbuild/internal/runcheck"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/jbuild-dev/jbuild/templates"
)

// engines returns the Docker host and the containerd socket of the test
// binary's dockerd (started on first use, stopped by testenv.Main).
func engines(t testing.TB) (dockerHost, containerdAddr string) {
	t.Helper()
	requireHeavy(t)
	return testenv.Dockerd(t), testenv.Containerd(t)
}

// load puts img into engine as ref, the way `docker load` and `ctr images
// import` do (not through jbuild's own stores, which are under test
// elsewhere).
func load(t testing.TB, engine, ref string, img v1.Image) {
	t.Helper()
	host, ctr := engines(t)
	if engine == runcheck.EngineDocker {
		testenv.LoadImage(t, host, ref, img)
	} else {
		testenv.ImportContainerd(t, ctr, runcheck.DefaultNamespace, ref, img)
	}
}

// daemonRef is the name an image gets in Docker and containerd: a full
// name, so both engines keep it as written.
func daemonRef(repo, tag string) string { return "jbuild.test/e2e/" + repo + ":" + tag }

// wrapped is an app image and its monitored variant, in the registry and
// in both engines.
type wrapped struct {
	Base, Wrapped       v1.Image
	BaseRef, WrappedRef string // names in Docker and containerd
	Labels              map[string]string
	Plan                *buildplan.Plan
	// AppVolumes are the app's own writable directories (Runtime.Volumes).
	AppVolumes []string
}

// wrapApp pushes img to the test registry, wraps it with jbuild's engine
// (registry to registry, as `jbuild wrap` does) with the agent folder and
// profile, and loads the base and the result into Docker and containerd
// (the engines lists which: "docker", "containerd").
func wrapApp(t testing.TB, repo string, img v1.Image, agentDir, profile string, plan buildplan.Options, engineNames ...string) *wrapped {
	t.Helper()
	prof, err := templates.Lookup(profile)
	if err != nil {
		t.Fatal(err)
	}
	return wrapAgent(t, repo, img, agentDir, prof, plan, engineNames...)
}

// wrapAgent is wrapApp with the profile given; agentSpec is what a user
// passes as --agent (a folder, or the file of a profile's agentFile).
func wrapAgent(t testing.TB, repo string, img v1.Image, agentSpec string, prof *buildplan.Profile, plan buildplan.Options, engineNames ...string) *wrapped {
	t.Helper()
	ctx := context.Background()
	reg := testenv.RealRegistry(t)
	src := fmt.Sprintf("%s/e2e/%s:base", reg, repo)
	dst := fmt.Sprintf("%s/e2e/%s:jennifer", reg, repo)
	testenv.PushImage(t, src, img)

	ag, err := agent.Open(ctx, agentSpec, agent.Options{BundleRoot: []string{prof.BundleRoot}, SingleFile: prof.AgentFile, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if plan.JbuildVersion == "" {
		plan.JbuildVersion = "e2e"
	}
	srcStore, dstStore := openStore(t, src), openStore(t, dst)
	res, err := wrap.Wrap(ctx, srcStore, dstStore, wrap.Options{
		Agent: ag, Profile: prof, Plan: plan,
		Layer: agentlayer.Options{CacheDir: t.TempDir()},
		Notef: func(f string, a ...any) { t.Logf("wrap: "+f, a...) },
	})
	if err != nil {
		t.Fatalf("wrapping %s: %v", repo, err)
	}
	out, err := remote.Image(mustRef(t, dst))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := out.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	w := &wrapped{
		Base: img, Wrapped: out,
		BaseRef: daemonRef(repo, "base"), WrappedRef: daemonRef(repo, "jennifer"),
		Labels: cf.Config.Labels, Plan: res.Platforms[0].Plan,
	}
	for _, e := range engineNames {
		start := time.Now()
		load(t, e, w.BaseRef, img)
		load(t, e, w.WrappedRef, out)
		t.Logf("loaded %s and %s into %s in %s", w.BaseRef, w.WrappedRef, e, time.Since(start).Round(time.Millisecond))
	}
	return w
}

func openStore(t testing.TB, ref string) transport.Store {
	t.Helper()
	r, err := transport.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	s, err := transport.Open(r, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustRef(t testing.TB, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// runOptions are the options of a restricted-pod-like run of ref in
// engine: the non-root app user, a read-only root, a tmpfs for the app's
// own writable directories and (runcheck.Prepare) for every
// io.jbuild.volumes directory, the agent config pointed at ln, the app on
// appPort answering a probe.
func runOptions(t testing.TB, engine, ref string, w *wrapped, ln net.Listener, appPort int) runcheck.Options {
	t.Helper()
	host, ctr := engines(t)
	opts := runcheck.Options{
		Engine: engine, DockerHost: host, ContainerdAddress: ctr,
		Image:        ref,
		User:         fmt.Sprintf("%d:%d", AppUID, AppGID),
		ReadOnlyRoot: true,
		Volumes:      slices.Clone(w.AppVolumes),
		Env:          []string{fmt.Sprintf("%s=%d", AppPortEnv, appPort)},
		Listener:     ln,
		WaitFor:      60 * time.Second,
		ProbeURL:     fmt.Sprintf("http://127.0.0.1:%d/", appPort),
	}
	if err := runcheck.Prepare(w.Wrapped, &opts); err != nil {
		t.Fatal(err)
	}
	return opts
}

// freePort returns a TCP port free on 127.0.0.1 right now (the apps listen
// there with host networking, so parallel runs need distinct ports).
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return runcheck.Port(ln)
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := runcheck.Listen()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func run(t testing.TB, opts runcheck.Options) *runcheck.Result {
	t.Helper()
	res, err := runcheck.Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("run %s in %s: %v", opts.Image, opts.Engine, err)
	}
	t.Logf("%s in %s: %s", opts.Image, opts.Engine, res)
	return res
}

func dumpOnFailure(t testing.TB, res *runcheck.Result) {
	t.Helper()
	if t.Failed() {
		t.Logf("container output:\n%s", res.Logs)
	}
}

// readImageFile reads a file of an image's merged filesystem.
func readImageFile(t testing.TB, img v1.Image, path string) []byte {
	t.Helper()
	b, err := imagefs.New(img, "the wrapped image", []string{path}).ReadFile(path, 1<<20)
	if err != nil {
		t.Fatalf("reading %s from the image: %v", path, err)
	}
	return b
}
