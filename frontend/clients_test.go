package frontend

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/imagefs"
	"github.com/jbuild-dev/jbuild/internal/runcheck"
	"github.com/jbuild-dev/jbuild/internal/testing/e2e"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/jbuild-dev/jbuild/templates"
)

// The frontend through the clients users run, as they run them: the
// docker CLI with buildx (the docker driver on Docker Engine's own builder,
// the remote driver on a buildkitd) and the 20.10 CLI's own BuildKit
// client. Each builds a `# syntax=` Dockerfile FROM a real Java app image
// (Debian's JRE, e2e.Java) with the test agent (e2e.JavaAgent, which
// connects and sends its domain id), as an agent image and as a local
// build context, and the result runs in Docker with the agent connecting
// to a loopback data server.

// clientsDomainID is passed as JENNIFER_DOMAIN_ID; the test agent sends it
// back, so a connection proves the build args reached the frontend.
const clientsDomainID = 4343

// debianDockerCLI is Debian's docker.io CLI (20.10): `docker build` with
// BuildKit and no buildx.
const debianDockerCLI = "/usr/bin/docker"

// clientsFixture is what every client case builds from, made once per
// test binary.
type clientsFixture struct {
	base     string // the Java app image, in the test registry
	agentImg string // the test agent as an agent image
	agentDir string // the test agent folder (agent.java)
	linkDir  string // the same with a symbolic link in it
	dir      string // the build context: Dockerfile with # syntax=
}

var clientsOnce struct {
	once sync.Once
	f    clientsFixture
	err  error
}

// clientsDockerfile names the frontend on its first line, builds one stage
// "app" FROM the app image with a build arg, and has one lint warning
// ("as" in lower case after an upper-case FROM: FromAsCasing) for --check.
func clientsDockerfile(fe, base string) string {
	return "# syntax=" + fe + "\n" +
		"FROM " + base + " as app\n" +
		"ARG GREETING=hello\n" +
		"LABEL greeting=$GREETING\n"
}

func clients(t *testing.T) clientsFixture {
	t.Helper()
	reg := testenv.RealRegistry(t)
	fe := testenv.FrontendImage(t)
	clientsOnce.once.Do(func() {
		clientsOnce.f, clientsOnce.err = makeClientsFixture(reg, fe)
	})
	if clientsOnce.err != nil {
		t.Fatal(clientsOnce.err)
	}
	return clientsOnce.f
}

func makeClientsFixture(reg, fe string) (clientsFixture, error) {
	ctx := context.Background()
	f := clientsFixture{base: reg + "/clients/javaapp:1", agentImg: reg + "/clients/agent:java"}
	app, err := e2e.Java.AppImage()
	if err != nil {
		return f, fmt.Errorf("java app image: %w", err)
	}
	if err := putImage(ctx, f.base, app); err != nil {
		return f, err
	}
	root, err := os.MkdirTemp("", "jbuild-clients-")
	if err != nil {
		return f, err
	}
	// Removed with the process's temporary files: the fixture outlives
	// every test of the binary.
	if f.agentDir, err = e2e.JavaAgent(filepath.Join(root, "agent")); err != nil {
		return f, err
	}
	f.linkDir = filepath.Join(root, "linked", "agent.java")
	if err := os.CopyFS(f.linkDir, os.DirFS(f.agentDir)); err != nil {
		return f, err
	}
	if err := os.Symlink("jennifer.jar", filepath.Join(f.linkDir, "jennifer-current.jar")); err != nil {
		return f, err
	}
	if err := pushAgentFolder(ctx, f.agentDir, f.agentImg); err != nil {
		return f, err
	}
	f.dir = filepath.Join(root, "context")
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return f, err
	}
	return f, os.WriteFile(filepath.Join(f.dir, "Dockerfile"), []byte(clientsDockerfile(fe, f.base)), 0o644)
}

func putImage(ctx context.Context, ref string, img v1.Image) error {
	r, err := transport.Parse(ref)
	if err != nil {
		return err
	}
	st, err := transport.Open(r, transport.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Put(ctx, &transport.Artifact{Image: img})
}

// pushAgentFolder publishes the agent folder dir as `jbuild agent push` does.
func pushAgentFolder(ctx context.Context, dir, ref string) error {
	cache, err := os.MkdirTemp("", "jbuild-clients-cache-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(cache)
	src, err := agent.Open(ctx, dir, agent.Options{BundleRoot: []string{"agent.java"}, CacheDir: cache})
	if err != nil {
		return err
	}
	b, err := src.Bundle(ctx, nil)
	if err != nil {
		return err
	}
	prof, err := templates.Lookup("jennifer-java")
	if err != nil {
		return err
	}
	a, err := wrap.AgentImage(prof, []wrap.PlatformBundle{{Bundle: b}}, agentlayer.Options{CacheDir: cache})
	if err != nil {
		return err
	}
	r, err := transport.Parse(ref)
	if err != nil {
		return err
	}
	st, err := transport.Open(r, transport.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	return st.Put(ctx, a)
}

// clientCase is one client and builder.
type clientCase struct {
	d       *testenv.DockerCLI
	builder string // --builder; "" is the default: the docker driver on d.Host
	// load: the builder is not the daemon's own, the result is loaded
	// into it (--load), as a remote builder's user does to run it.
	load bool
	// merges: the builder has MergeOp (a buildkitd); Docker Engine's own
	// builder on overlay2 has not, and the agent is copied.
	merges bool
}

// build runs `docker buildx build` with args on f.dir and returns its
// output.
func (c clientCase) build(t *testing.T, f clientsFixture, args ...string) (string, error) {
	t.Helper()
	full := []string{"buildx", "build", "--progress=plain"}
	if c.builder != "" {
		full = append(full, "--builder", c.builder)
	}
	full = append(append(full, args...), f.dir)
	return c.d.Run(full...)
}

// image builds the monitored image tagged ref into the daemon with the
// agent given by agentArgs and runs it there.
func (c clientCase) image(t *testing.T, f clientsFixture, ref string, agentArgs ...string) {
	t.Helper()
	args := append([]string{
		"--build-arg", ArgServerAddress + "=jennifer.invalid",
		"--build-arg", fmt.Sprintf("%s=%d", ArgDomainID, clientsDomainID),
		"-t", ref,
	}, agentArgs...)
	if c.load {
		args = append(args, "--load")
	}
	out, err := c.build(t, f, args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "[jbuild] add the JENNIFER agent") {
		t.Errorf("no jbuild step in the build:\n%s", out)
	}
	if copied := strings.Contains(out, "(copied: the builder has no MergeOp)"); copied == c.merges {
		t.Errorf("the agent was copied: %v, want %v (the builder has MergeOp: %v):\n%s", copied, !c.merges, c.merges, out)
	}
	checkAndRun(t, c.d.Host, ref)
}

// runClientCase is every check of one client and builder.
func runClientCase(t *testing.T, c clientCase) {
	f := clients(t)
	tag := strings.NewReplacer("/", "-", ":", "-").Replace(t.Name())
	ref := "jbuild.test/clients/" + strings.ToLower(tag)

	t.Run("agent image", func(t *testing.T) {
		c.image(t, f, ref+":image", "--build-arg", ArgAgent+"="+f.agentImg)
	})
	t.Run("local agent context", func(t *testing.T) {
		c.image(t, f, ref+":local", "--build-context", AgentContext+"="+f.agentDir)
		// The folder is indexed by a step of the frontend's own image,
		// which BuildKit keys by the folder's content: the same build again
		// finds it cached (agentindex.go).
		out, err := c.build(t, f, "--build-context", AgentContext+"="+f.agentDir, "--build-arg", ArgServerAddress+"=jennifer.invalid")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !vertexCached(out, indexStepName) {
			t.Errorf("the second build did not find the agent folder's index step cached:\n%s", out)
		}
	})
	t.Run("local agent context with a symlink", func(t *testing.T) {
		args := []string{"--build-context", AgentContext + "=" + f.linkDir,
			"--build-arg", ArgServerAddress + "=jennifer.invalid", "-t", ref + ":link"}
		if c.load {
			args = append(args, "--load")
		}
		// A builder without file.symlink.create (BuildKit before v0.19)
		// gets the link copied from the folder instead of made.
		out, err := c.build(t, f, args...)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		img := daemonImage(t, c.d.Host, ref+":link")
		fsys := imagefs.New(img, ref, nil)
		st, err := fsys.Lookup("/opt/jennifer/agent.java/jennifer-current.jar")
		if err != nil || st.Link != "jennifer.jar" {
			t.Errorf("the agent's symlink in the image: %+v, %v", st, err)
		}
	})
	t.Run("outline", func(t *testing.T) {
		out, err := c.build(t, f, "--call=outline", "--build-arg", ArgAgent+"=127.0.0.1:1/no/agent:here")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !strings.Contains(out, "GREETING") || !strings.Contains(out, "hello") || !strings.Contains(out, "TARGET:") {
			t.Errorf("the outline lacks the target and the GREETING arg:\n%s", out)
		}
	})
	t.Run("targets", func(t *testing.T) {
		out, err := c.build(t, f, "--call=targets")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !strings.Contains(out, "app (default)") {
			t.Errorf("the targets do not list app:\n%s", out)
		}
	})
	t.Run("check", func(t *testing.T) {
		// --check exits 1 when the Dockerfile has warnings.
		out, err := c.build(t, f, "--check")
		var ee *exec.ExitError
		if err == nil || !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("--check on a Dockerfile with a warning: %v, want exit status 1", err)
		}
		if !strings.Contains(out, "FromAsCasing") || !strings.Contains(out, "1 warning") {
			t.Errorf("--check does not report FromAsCasing:\n%s", out)
		}
	})
}

// daemonImage reads ref from the Docker daemon at host.
func daemonImage(t *testing.T, host, ref string) v1.Image {
	t.Helper()
	r, err := transport.Parse("docker-daemon:" + ref)
	if err != nil {
		t.Fatal(err)
	}
	st, err := transport.Open(r, transport.Options{Docker: transport.DockerOptions{Host: host}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	a, err := st.Get(context.Background())
	if err != nil {
		t.Fatalf("reading %s from the daemon: %v", ref, err)
	}
	return a.Image
}

// checkAndRun reads ref from the daemon at host: a monitored image of the
// Java app (the jennifer-java profile, the app's own JAVA_TOOL_OPTIONS
// first and the agent once after it, the Dockerfile's label), then runs
// it there as a restricted pod would (its user, read-only root, tmpfs for
// the agent's writable folders): the agent connects to a loopback data
// server with the build's domain id and the app answers with the marker
// of its base image.
func checkAndRun(t *testing.T, host, ref string) {
	t.Helper()
	img := daemonImage(t, host, ref)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if p := cf.Config.Labels[buildplan.LabelProfile]; p != "jennifer-java" {
		t.Errorf("profile label %q, want jennifer-java", p)
	}
	if g := cf.Config.Labels["greeting"]; g != "hello" {
		t.Errorf("the Dockerfile's label greeting = %q, want hello", g)
	}
	jto := envOf(cf, "JAVA_TOOL_OPTIONS")
	if !strings.HasPrefix(jto, "-Dapp.marker="+e2e.BaseMarker+" ") || strings.Count(jto, "-javaagent:") != 1 {
		t.Errorf("JAVA_TOOL_OPTIONS %q: want the base's option, then the agent once", jto)
	}

	ln, err := runcheck.Listen()
	if err != nil {
		t.Fatal(err)
	}
	port := freeLoopbackPort(t)
	opts := runcheck.Options{
		Engine: runcheck.EngineDocker, DockerHost: host, Image: ref,
		ReadOnlyRoot: true,
		Env:          []string{fmt.Sprintf("%s=%d", e2e.AppPortEnv, port)},
		Listener:     ln,
		WaitFor:      90 * time.Second,
		ProbeURL:     fmt.Sprintf("http://127.0.0.1:%d/", port),
	}
	if err := runcheck.Prepare(img, &opts); err != nil {
		t.Fatal(err)
	}
	res, err := runcheck.Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("run %s: %v", ref, err)
	}
	t.Logf("%s: %s", ref, res)
	want := fmt.Sprintf("JENNIFER domain_id=%d agent=java\n", clientsDomainID)
	if !res.Connected || string(res.FirstBytes) != want {
		t.Errorf("agent: connected %v, sent %q; want %q\n%s", res.Connected, res.FirstBytes, want, res.Logs)
	}
	if !res.AppAnswered || !strings.Contains(res.ProbeBody, e2e.BaseMarker) {
		t.Errorf("app: answered %v with %q, want the base's marker %q\n%s", res.AppAnswered, res.ProbeBody, e2e.BaseMarker, res.Logs)
	}
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := runcheck.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return runcheck.Port(ln)
}

// `docker buildx build` with the default builder of Debian's Docker Engine
// 20.10 (the docker driver: BuildKit 0.8, no MergeOp, no
// file.symlink.create): the agent is copied, the image runs with the agent
// connected; a local agent folder with a symbolic link gets jbuild's
// message instead of BuildKit's "invalid action type <nil>".
func TestBuildxDockerDriverDockerd20(t *testing.T) {
	d := testenv.Buildx(t)
	if v := d.ServerVersion(t); !strings.HasPrefix(v, "20.10.") {
		t.Fatalf("Debian's dockerd is %s, want 20.10", v)
	}
	runClientCase(t, clientCase{d: d})
}

// The same on a current Docker Engine (28.5, built from its module; BuildKit
// v0.25 inside, MergeOp disabled on overlay2): the agent is copied, and a
// local agent folder's symbolic links are made.
func TestBuildxDockerDriverDockerdCurrent(t *testing.T) {
	d := testenv.BuildxOn(t, testenv.DockerdCurrent(t))
	if v := d.ServerVersion(t); !strings.HasPrefix(v, "28.") {
		t.Fatalf("the current dockerd is %s, want 28.x", v)
	}
	runClientCase(t, clientCase{d: d})
}

// `docker buildx build --builder` a remote driver on the pinned buildkitd
// (MergeOp: the agent layer is merged), the result loaded into Debian's
// dockerd with --load and run there.
func TestBuildxRemoteDriver(t *testing.T) {
	d := testenv.Buildx(t)
	runClientCase(t, clientCase{d: d, builder: d.RemoteBuilder(t), load: true, merges: true})
}

// Debian's docker 20.10 CLI without buildx: `DOCKER_BUILDKIT=1 docker
// build` uses its own BuildKit client on the daemon's BuildKit 0.8. It
// has no --build-context, --call or --check, so only the agent image
// build applies; its result runs with the agent connected.
func TestDockerBuildClassic20(t *testing.T) {
	d := testenv.Buildx(t)
	f := clients(t)
	out, err := exec.Command(debianDockerCLI, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "20.10") {
		t.Fatalf("%s --version: %s %v; want Debian's docker.io 20.10 CLI (`apt-get install docker.io` or `make test-deps`)", debianDockerCLI, out, err)
	}
	ref := "jbuild.test/clients/classic:image"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, debianDockerCLI, "build", "--progress=plain",
		"--build-arg", ArgAgent+"="+f.agentImg,
		"--build-arg", ArgServerAddress+"=jennifer.invalid",
		"--build-arg", fmt.Sprintf("%s=%d", ArgDomainID, clientsDomainID),
		"-t", ref, f.dir)
	cmd.Env = append(d.Env(), "DOCKER_BUILDKIT=1")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("DOCKER_BUILDKIT=1 docker build: %v\n%s", err, b)
	}
	if !strings.Contains(string(b), "[jbuild] add the JENNIFER agent (copied: the builder has no MergeOp)") {
		t.Errorf("no jbuild copy step in the build:\n%s", b)
	}
	checkAndRun(t, d.Host, ref)
}

// vertexCached reports whether the plain progress out shows the vertex
// named name as cached ("#N name" then "#N CACHED").
func vertexCached(out, name string) bool {
	id := ""
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[0], "#") {
			continue
		}
		rest := strings.TrimSpace(strings.TrimPrefix(line, f[0]))
		if id == "" && rest == name {
			id = f[0]
		}
		if id != "" && f[0] == id && rest == "CACHED" {
			return true
		}
	}
	return false
}
