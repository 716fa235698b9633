package e2e

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/templates"
)

// otelCase is one shipped OpenTelemetry profile, proven with the real
// agent from its registry.
type otelCase struct {
	rt      Runtime
	profile string
	// agent is what a user passes as --agent (the jar, the npm folder).
	agent func() (string, error)
	// ownOption is what the image's own options variable adds, and
	// optionShows what the app's answer then holds (a regular expression
	// whose first group is a number in MiB), within [lo, hi].
	ownVar, ownOption string
	optionShows       *regexp.Regexp
	lo, hi            int
	version           string
}

var otelCases = map[string]otelCase{
	"java": {
		rt: Java, profile: "opentelemetry-java", agent: OTelJavaAgent,
		ownVar: "JAVA_TOOL_OPTIONS", ownOption: "-Xmx256m",
		optionShows: regexp.MustCompile(`maxHeapMB=(\d+)`), lo: 200, hi: 256,
		version: OTelJavaVersion,
	},
	"nodejs": {
		rt: Nodejs, profile: "opentelemetry-nodejs", agent: OTelNodeAgent,
		ownVar: "NODE_OPTIONS", ownOption: "--max-old-space-size=200",
		optionShows: regexp.MustCompile(`heapMB=(\d+)`), lo: 190, hi: 260,
		version: OTelNodeVersion,
	},
}

// TestOpenTelemetryJava: the OpenTelemetry Java agent 2.33.1 from Maven
// Central, given as the jar the registry serves, wrapped with the shipped
// opentelemetry-java profile.
func TestOpenTelemetryJava(t *testing.T) { testOTel(t, otelCases["java"]) }

// TestOpenTelemetryNodejs: @opentelemetry/auto-instrumentations-node from
// npm, given as the folder `npm install --prefix` made, wrapped with the
// shipped opentelemetry-nodejs profile.
func TestOpenTelemetryNodejs(t *testing.T) { testOTel(t, otelCases["nodejs"]) }

// testOTel, in Docker and in containerd: the wrapped image, run as a
// restricted pod runs it (user 1000, read-only root, its volumes, host
// network), sends spans of the app's requests to a loopback OTLP/HTTP
// receiver, with the service name the wrap gave; the image's own option
// (a heap limit in its own JAVA_TOOL_OPTIONS or NODE_OPTIONS) still
// applies; the unwrapped image sends nothing; and `jbuild verify --run`
// passes with the profile's otlp-http run check.
func testOTel(t *testing.T, c otelCase) {
	requireHeavy(t)
	dockerHost, containerdAddr := engines(t)
	spec, err := c.agent()
	if err != nil {
		t.Fatal(err)
	}
	img, err := c.rt.AppImage()
	if err != nil {
		t.Fatal(err)
	}
	img = withOwnOption(t, img, c.ownVar, c.ownOption)
	prof, err := templates.Lookup(c.profile)
	if err != nil {
		t.Fatal(err)
	}
	service := "e2e-" + c.rt.Name
	plan := buildplan.Options{Params: map[string]string{"endpoint": "http://otel-collector.invalid:4318", "serviceName": service}}
	w := wrapAgent(t, "otel-"+c.rt.Name, img, spec, prof, plan, bothEngines...)
	w.AppVolumes = c.rt.Volumes
	if v := w.Labels[buildplan.LabelAgentVersion]; v != c.version {
		t.Errorf("agent version label %q, want %s", v, c.version)
	}
	baseLayers, _ := w.Base.Layers()
	outLayers, _ := w.Wrapped.Layers()
	if len(outLayers) != len(baseLayers)+1 {
		t.Errorf("the output has %d layers over the base's %d; want the agent layer alone (no settings)", len(outLayers), len(baseLayers))
	}
	cf, _ := w.Wrapped.ConfigFile()
	if own := envValue(cf.Config.Env, c.ownVar); !strings.HasPrefix(own, c.ownOption+" ") {
		t.Errorf("%s=%q: want the image's own %s first, the agent's after", c.ownVar, own, c.ownOption)
	}

	for _, engine := range bothEngines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			// Spans only: the receiver counts the first trace export, which
			// the probe's requests make.
			opts := runOptions(t, engine, w.WrappedRef, w, listen(t), freePort(t))
			if opts.Check == nil || opts.Check.Kind != buildplan.RunCheckOTLPHTTP {
				t.Fatalf("run check %+v from the profile, want otlp-http", opts.Check)
			}
			opts.Check = &buildplan.RunCheck{Kind: buildplan.RunCheckOTLPHTTP, Paths: []string{"/v1/traces"}}
			opts.Env = setEnv(opts.Env, "OTEL_BSP_SCHEDULE_DELAY=200", "OTEL_METRICS_EXPORTER=none", "OTEL_LOGS_EXPORTER=none")
			opts.WaitFor = 120 * time.Second
			// The rest of the restricted Pod Security level.
			opts.NoNewPrivileges, opts.DropAllCapabilities = true, true
			stop := keepProbing(opts.ProbeURL)
			res := run(t, opts)
			stop()
			defer dumpOnFailure(t, res)
			if !res.Connected || len(res.Requests) == 0 {
				t.Fatalf("wrapped: no spans arrived: %s", res)
			}
			span := res.Requests[0]
			if span.ContentType != "application/x-protobuf" || !bytes.Contains(span.Body, []byte(service)) {
				t.Errorf("wrapped: the export %s does not carry the service name %q the wrap set", span, service)
			}
			if !res.AppAnswered {
				t.Errorf("wrapped: the app did not answer")
			}
			checkOwnOption(t, "wrapped", c, res.ProbeBody)

			// The unwrapped image, with the same run settings and the
			// agent's endpoint pointing at the receiver: nothing at all
			// arrives (any request counts).
			opts = runOptions(t, engine, w.WrappedRef, w, listen(t), freePort(t))
			opts.Image, opts.Config, opts.Volumes = w.BaseRef, nil, c.rt.Volumes
			opts.Check = &buildplan.RunCheck{Kind: buildplan.RunCheckHTTP}
			opts.Env = setEnv(opts.Env, "OTEL_BSP_SCHEDULE_DELAY=200")
			opts.Grace = 5 * time.Second
			opts.NoNewPrivileges, opts.DropAllCapabilities = true, true
			stop = keepProbing(opts.ProbeURL)
			base := run(t, opts)
			stop()
			defer dumpOnFailure(t, base)
			if base.Connected {
				t.Errorf("unwrapped image sent %s", base.Report)
			}
			if !base.AppAnswered {
				t.Errorf("unwrapped: the app did not answer")
			}
			checkOwnOption(t, "unwrapped", c, base.ProbeBody)
		})
	}

	// `jbuild verify --run`, the profile read from the image: its
	// otlp-http run check gets the agent's first export.
	bin := jbuildBinary(t)
	for _, ref := range []string{"docker-daemon:" + w.WrappedRef, "containerd:" + w.WrappedRef} {
		cmd := exec.Command(bin, "verify", ref, "--run", "--wait", "120s")
		cmd.Env = append(os.Environ(), "DOCKER_HOST="+dockerHost, "CONTAINERD_ADDRESS="+containerdAddr, "CONTAINERD_NAMESPACE=k8s.io", "XDG_CACHE_HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "run: agent reported (POST /v1/") {
			t.Errorf("jbuild verify %s --run: %v\n%s", ref, err, out)
		} else {
			t.Logf("jbuild verify %s --run:\n%s", ref, lastLines(out, 3))
		}
	}
}

// withOwnOption sets the image's own options variable (before any agent).
func withOwnOption(t testing.TB, img v1.Image, name, value string) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	env := slices.DeleteFunc(cf.Config.Env, func(e string) bool { return strings.HasPrefix(e, name+"=") })
	old := envValue(cf.Config.Env, name)
	if old != "" {
		value = old + " " + value
	}
	cf.Config.Env = append(env, name+"="+value)
	out, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func envValue(env []string, name string) string {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, name+"="); ok {
			return v
		}
	}
	return ""
}

// checkOwnOption: the app reports a heap limit within [lo, hi] MiB, as
// the image's own option sets it (without it the limit is a share of this
// machine's memory, gigabytes).
func checkOwnOption(t *testing.T, what string, c otelCase, body string) {
	t.Helper()
	m := c.optionShows.FindStringSubmatch(body)
	if m == nil {
		t.Errorf("%s: the app answered %q, without %s", what, body, c.optionShows)
		return
	}
	n, _ := strconv.Atoi(m[1])
	if n < c.lo || n > c.hi {
		t.Errorf("%s: the app reports %s MiB, want %d-%d: the image's own %s=%s did not apply", what, m[1], c.lo, c.hi, c.ownVar, c.ownOption)
	} else {
		t.Logf("%s: the app reports %s (the image's own %s)", what, m[0], c.ownOption)
	}
}

// keepProbing requests url every 300 ms until stopped, so the app keeps
// making spans after the run's own probe answered (an agent may export
// only spans made after its exporter started).
func keepProbing(url string) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case <-time.After(300 * time.Millisecond):
			}
			if resp, err := httpClient.Get(url); err == nil {
				resp.Body.Close()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// jbuildBinary builds cmd/jbuild into the test's temp dir.
func jbuildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "jbuild")
	if out, err := exec.Command("go", "build", "-o", bin, "../../../cmd/jbuild").CombinedOutput(); err != nil {
		t.Fatalf("building jbuild: %v\n%s", err, out)
	}
	return bin
}

// setEnv sets KEY=VALUE entries in env, replacing the key's earlier ones.
func setEnv(env []string, kvs ...string) []string {
	for _, kv := range kvs {
		k, _, _ := strings.Cut(kv, "=")
		env = slices.DeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, k+"=") })
		env = append(env, kv)
	}
	return env
}

var httpClient = &http.Client{Timeout: 2 * time.Second}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
