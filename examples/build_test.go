package examples_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	corev1 "k8s.io/api/core/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/imagefs"
	"github.com/jbuild-dev/jbuild/internal/runcheck"
	"github.com/jbuild-dev/jbuild/internal/testing/e2e"
	"github.com/jbuild-dev/jbuild/internal/testing/podrun"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/verify"
	"github.com/jbuild-dev/jbuild/templates"
)

// domainID is passed as JENNIFER_DOMAIN_ID; the test agents send it back,
// so a connection proves the build args reached the frontend.
const domainID = 4242

// greeting is the env the test adds to each Deployment: the app answers
// with it when the pod's env reaches it.
const greeting = "hello from the pod spec"

// A base image stands in for a public one (no public registry here): a
// Debian bookworm rootfs with the runtime (internal/testing/e2e, cached), and the
// environment the official image sets, which is what jbuild detects.
type baseImage struct {
	repo   string // in the test registry: examples/base/<repo>
	rootfs e2e.Rootfs
	env    []string
}

const debianPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

var (
	javaHome = "JAVA_HOME=/usr/lib/jvm/java-17-openjdk-" + runtime.GOARCH
	jdkBase  = baseImage{"eclipse-temurin:17-jdk", e2e.Rootfs{Name: "jdk", Packages: []string{"openjdk-17-jdk-headless"}},
		[]string{debianPath, javaHome, "JAVA_VERSION=jdk-17"}}
	jreBase = baseImage{"eclipse-temurin:17-jre", e2e.Java.Rootfs, []string{debianPath, javaHome, "JAVA_VERSION=jdk-17"}}
	// Bookworm's Node.js is 18; the sample's default is node:20-slim.
	nodeBase   = baseImage{"node:18-slim", e2e.Nodejs.Rootfs, []string{debianPath, "NODE_VERSION=18"}}
	pythonBase = baseImage{"python:3.11-slim", e2e.Python.Rootfs, []string{debianPath, "PYTHON_VERSION=3.11"}}
	phpBase    = baseImage{"php:8.2-cli", e2e.PHP.Rootfs, []string{debianPath, "PHP_VERSION=" + e2e.PHPVersion}}
)

// builtSample is a sample that builds and runs here.
type builtSample struct {
	sample
	agentType string                           // what the test agent sends: agent=<type>
	agent     func(dir string) (string, error) // the test agent folder
	args      map[string]baseImage             // build arg -> base image
}

var builtSamples = []builtSample{
	{samples[1], "java", e2e.JavaAgent, map[string]baseImage{"BUILD_IMAGE": jdkBase, "BASE_IMAGE": jreBase}},
	{samples[2], "nodejs", e2e.NodejsAgent, map[string]baseImage{"BASE_IMAGE": nodeBase}},
	{samples[3], "python", e2e.PythonAgent, map[string]baseImage{"BASE_IMAGE": pythonBase}},
	{samples[4], "php", e2e.PHPAgent, map[string]baseImage{"BASE_IMAGE": phpBase}},
}

var pushed sync.Map // ref -> *pushOnce

type pushOnce struct {
	once sync.Once
	err  error
}

// push puts the base image into the test registry once per test binary
// and returns its reference.
func (b baseImage) push(t testing.TB) string {
	t.Helper()
	ref := testenv.Registry(t) + "/examples/base/" + b.repo
	v, _ := pushed.LoadOrStore(ref, &pushOnce{})
	p := v.(*pushOnce)
	p.once.Do(func() {
		layer, err := b.rootfs.Layer()
		if err != nil {
			p.err = err
			return
		}
		img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
		img, err = mutate.ConfigFile(img, &v1.ConfigFile{
			Architecture: runtime.GOARCH, OS: "linux",
			Config: v1.Config{Env: b.env, Cmd: []string{"/bin/sh"}},
			RootFS: v1.RootFS{Type: "layers"},
		})
		if err == nil {
			img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "debootstrap " + strings.Join(b.rootfs.Packages, " ")}})
		}
		if err == nil {
			var r name.Reference
			if r, err = name.ParseReference(ref, name.Insecure); err == nil {
				err = remote.Write(r, img)
			}
		}
		p.err = err
	})
	if p.err != nil {
		t.Fatalf("base image %s: %v", ref, p.err)
	}
	return ref
}

// buildSample builds the sample's Dockerfile, unchanged, through BuildKit's
// Dockerfile frontend, which hands it to the jbuild frontend image
// (BUILDKIT_SYNTAX overrides the placeholder `# syntax=` line, as a user
// would), with the sample's test agent (made in a temporary folder) as the
// jennifer-agent named context and serverAddr as the data server; the
// result is pushed to out.
func buildSample(t testing.TB, s builtSample, out, serverAddr string) error {
	dir, err := os.MkdirTemp("", "jbuild-examples-agent-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	agentDir, err := s.agent(dir)
	if err != nil {
		return fmt.Errorf("test agent: %w", err)
	}
	return solveSample(t, s, agentDir, out, serverAddr)
}

// For the Java, Node.js, Python and PHP samples: the Dockerfile as shipped
// builds through BuildKit with the jbuild frontend into a monitored image,
// whose writable agent directories are all emptyDirs in the sample's
// Deployment; that Deployment's pod (its user, group, fsGroup, read-only
// root, emptyDirs, dropped capabilities, env and readiness probe, plus a
// test env) runs the image in Docker: the agent connects with the domain id
// of the build args and the app answers its readiness probe and, on /, with
// the greeting from the pod's env. For Java the same pod also runs in
// containerd, the kubelet-like run (run there in
// TestJavaSampleKubeletLike).
func TestSamplesBuildAndRun(t *testing.T) {
	testenv.RequireIntegration(t)
	dockerHost := testenv.Dockerd(t)
	testenv.FrontendImage(t)
	for _, s := range builtSamples {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			img, labels := builtImage(t, s)
			t.Logf("built in %s", time.Since(start).Round(time.Millisecond))
			checkImage(t, s, img, labels)

			ref := "jbuild.test/examples/" + s.Name + ":test"
			start = time.Now()
			testenv.LoadImage(t, dockerHost, ref, img)
			t.Logf("loaded into Docker in %s", time.Since(start).Round(time.Millisecond))

			// The readiness probe of the manifest, then / for the greeting.
			for _, path := range []string{"", "/"} {
				opts := podOptions(t, s, img, labels, runcheck.EngineDocker, ref)
				if path != "" {
					opts.ProbeURL = strings.TrimSuffix(opts.ProbeURL, "/health") + path
				}
				res := runPod(t, opts)
				checkRun(t, s, res, path)
			}
		})
	}
}

// The kubelet-like run of the issue: the Java sample's rendered Deployment
// (k8s/deployment.yaml, plus APP_GREETING and PORT in the container's env,
// the port moved off 8080 for the host network) translated by podrun into
// a containerd run: user and group, fsGroup-owned emptyDirs as the only
// writable mounts on a read-only root, the pod's env over the image's. The
// agent connects to the loopback listener; the app sees APP_GREETING and
// PORT from the pod; the pod's env did not touch the image's
// JAVA_TOOL_OPTIONS, which the JVM reports with the base's own option first
// and the agent after it.
func TestJavaSampleKubeletLike(t *testing.T) {
	testenv.RequireIntegration(t)
	ctr := testenv.Containerd(t)
	s := builtSamples[0]
	img, labels := builtImage(t, s)
	ref := "jbuild.test/examples/" + s.Name + ":kubelet"
	start := time.Now()
	testenv.ImportContainerd(t, ctr, runcheck.DefaultNamespace, ref, img)
	t.Logf("imported into containerd in %s", time.Since(start).Round(time.Millisecond))

	opts := podOptions(t, s, img, labels, runcheck.EngineContainerd, ref)
	opts.ProbeURL = strings.TrimSuffix(opts.ProbeURL, "/health") + "/"
	if opts.User != "1000:1000" || opts.FSGroup == nil || *opts.FSGroup != 1000 || !opts.ReadOnlyRoot ||
		!opts.NoNewPrivileges || !opts.DropAllCapabilities {
		t.Fatalf("the pod template did not translate: %+v", opts)
	}
	res := runPod(t, opts)
	checkRun(t, s, res, "/")
	jto := "Picked up JAVA_TOOL_OPTIONS: -XX:MaxRAMPercentage=75 -javaagent:/opt/jennifer/agent.java/jennifer.jar"
	if !strings.Contains(res.Logs, jto) {
		t.Errorf("the JVM did not report the image's JAVA_TOOL_OPTIONS (%q...):\n%s", jto, res.Logs)
	}
}

var builds sync.Map // sample name -> *buildOnce

type buildOnce struct {
	once   sync.Once
	img    v1.Image
	labels map[string]string
	err    error
}

// builtImage builds and pushes the sample once per test binary.
func builtImage(t testing.TB, s builtSample) (v1.Image, map[string]string) {
	t.Helper()
	v, _ := builds.LoadOrStore(s.Name, &buildOnce{})
	b := v.(*buildOnce)
	b.once.Do(func() {
		out := testenv.Registry(t) + "/examples/" + s.Name + ":test"
		if b.err = buildSample(t, s, out, "jennifer.invalid"); b.err != nil {
			return
		}
		b.img = testenv.Image(t, out)
		cf, err := b.img.ConfigFile()
		if err != nil {
			b.err = err
			return
		}
		b.labels = cf.Config.Labels
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	if b.img == nil {
		t.Fatal("the sample did not build (see the first test that built it)")
	}
	return b.img, b.labels
}

// checkImage: the frontend made a monitored image with the sample's profile
// and user, and every directory it needs writable is an emptyDir of the
// sample's Deployment.
func checkImage(t testing.TB, s builtSample, img v1.Image, labels map[string]string) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Image(context.Background(), s.Name, img, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		if !c.OK && !c.Skipped {
			t.Errorf("jbuild verify: %s: %s", c.Name, c.Detail)
		}
	}
	// The agent folder and the folders above it stay root's (verify looks
	// below the folder): the settings layer, which carries the user's
	// writable dirs, must not hand the user their parents.
	prof, err := templates.Lookup(s.Profile)
	if err != nil {
		t.Fatal(err)
	}
	fsys := imagefs.New(img, s.Name, nil)
	for d := prof.InstallDir; d != "/"; d = path.Dir(d) {
		fi, err := fsys.Stat(d)
		if err != nil {
			t.Errorf("%s: %v", d, err)
			continue
		}
		if own, _ := fi.Sys().(imagefs.Owner); own.UID != 0 || own.GID != 0 || fi.Mode().Perm()&0o022 != 0 {
			t.Errorf("%s is %d:%d %04o, want root's and writable by root only", d, own.UID, own.GID, fi.Mode().Perm())
		}
	}
	if labels[buildplan.LabelProfile] != s.Profile {
		t.Errorf("profile label %q, want %q (labels %v)", labels[buildplan.LabelProfile], s.Profile, labels)
	}
	if cf.Config.User != "1000:1000" {
		t.Errorf("user %q, want the Dockerfile's 1000:1000", cf.Config.User)
	}
	m := loadManifests(t, s.Name)
	mounts := mountedEmptyDirs(t, m.Deployment.Spec.Template.Spec)
	for _, v := range strings.Split(labels[buildplan.LabelVolumes], ",") {
		if v != "" && !slices.Contains(mounts, v) {
			t.Errorf("the image needs %s writable (%s) but k8s/deployment.yaml mounts no emptyDir there (mounts %q)", v, buildplan.LabelVolumes, mounts)
		}
	}
	if s.agentType == "java" {
		var jto string
		for _, e := range cf.Config.Env {
			if v, ok := strings.CutPrefix(e, "JAVA_TOOL_OPTIONS="); ok {
				jto = v
			}
		}
		if !strings.HasPrefix(jto, "-XX:MaxRAMPercentage=75 ") || strings.Count(jto, "-javaagent:") != 1 {
			t.Errorf("JAVA_TOOL_OPTIONS %q: want the Dockerfile's options, then the agent once", jto)
		}
	}
}

// podOptions are the sample Deployment's pod as a run of ref in engine:
// the test adds APP_GREETING and PORT (a free port: host network) to the
// container's env and moves the container port along, and points the
// agent at a fresh loopback listener.
func podOptions(t testing.TB, s builtSample, img v1.Image, labels map[string]string, engine, ref string) runcheck.Options {
	t.Helper()
	d := loadManifests(t, s.Name).Deployment
	port := freePort(t)
	c := &d.Spec.Template.Spec.Containers[0]
	c.Env = append(c.Env,
		corev1.EnvVar{Name: "APP_GREETING", Value: greeting},
		corev1.EnvVar{Name: "PORT", Value: fmt.Sprint(port)})
	c.Ports[0].ContainerPort = int32(port)

	opts, err := podrun.Options(&d.Spec.Template.Spec, "app", podrun.Pod{Name: s.Name + "-7d4b9c-x2k8p", Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	opts.Engine, opts.Image = engine, ref
	if engine == runcheck.EngineDocker {
		opts.DockerHost = testenv.Dockerd(t)
	} else {
		opts.ContainerdAddress = testenv.Containerd(t)
	}
	ln, err := runcheck.Listen()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	opts.Listener = ln
	opts.WaitFor = 90 * time.Second
	var content []byte
	if p := labels[buildplan.LabelConfig]; p != "" {
		content, err = imagefs.New(img, s.Name, []string{p}).ReadFile(p, 1<<20)
		if err != nil {
			t.Fatalf("reading %s from the image: %v", p, err)
		}
	}
	ov, env, err := runcheck.ServerOverride(labels, content, "127.0.0.1", runcheck.Port(ln))
	if err != nil {
		t.Fatal(err)
	}
	opts.Config = ov
	opts.Env = append(opts.Env, env...)
	return opts
}

func runPod(t testing.TB, opts runcheck.Options) *runcheck.Result {
	t.Helper()
	res, err := runcheck.Run(context.Background(), opts)
	if err != nil {
		t.Fatalf("run %s in %s: %v", opts.Image, opts.Engine, err)
	}
	t.Logf("%s in %s, probe %s: %s", opts.Image, opts.Engine, opts.ProbeURL, res)
	return res
}

// checkRun: the agent connected with the build's domain id, the app
// answered the probe (readiness: "ok"; "/": the pod's greeting).
func checkRun(t testing.TB, s builtSample, res *runcheck.Result, path string) {
	t.Helper()
	want := fmt.Sprintf("JENNIFER domain_id=%d agent=%s\n", domainID, s.agentType)
	if !res.Connected || string(res.FirstBytes) != want {
		t.Errorf("agent: connected=%v, sent %q; want %q", res.Connected, res.FirstBytes, want)
	}
	body := "ok\n"
	if path == "/" {
		body = greeting + "\n"
	}
	if !res.AppAnswered || res.ProbeBody != body {
		t.Errorf("app: answered=%v with %q; want %q", res.AppAnswered, res.ProbeBody, body)
	}
	if t.Failed() {
		t.Logf("container output:\n%s", res.Logs)
	}
}

// freePort is a TCP port free on 127.0.0.1 now (host network: parallel
// runs need distinct ports).
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return runcheck.Port(ln)
}
