package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/internal/testing/sampleimage"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// jbuildBin is the CLI built once for these tests: they run it the way users
// do, exit codes and all.
var jbuildBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jbuild-cli-test-")
	if err != nil {
		panic(err)
	}
	jbuildBin = filepath.Join(dir, "jbuild")
	out, err := exec.Command("go", "build", "-o", jbuildBin, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	// testenv.Main exits the process: a defer here would never run.
	testenv.Main(m, func() { os.RemoveAll(dir) })
}

type run struct {
	stdout, stderr string
	code           int
}

func jbuild(t *testing.T, args ...string) run {
	t.Helper()
	return jbuildEnv(t, nil, args...)
}

// jbuildEnv runs the CLI with env added to the test's environment.
func jbuildEnv(t *testing.T, env []string, args ...string) run {
	t.Helper()
	cmd := exec.Command(jbuildBin, args...)
	cmd.Env = append(append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir()), env...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	r := run{stdout: so.String(), stderr: se.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

func sampleAgentDir(t *testing.T) string {
	p, err := filepath.Abs("../../examples/agents/jennifer-java-sample/agent.java")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sampleLayout(t *testing.T) string {
	dir := filepath.Join(t.TempDir(), "layout")
	if _, err := sampleimage.Write(dir, "app-1.0"); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"wrap"},
		{"wrap", "a", "b"},
		{"wrap", "oci:x:y", "--no-such-flag"},
		{"plan", "oci:x:y", "--agent", "a", "--server-port", "0"},
		{"plan", "oci:x:y", "--agent", "a", "--runtime", "cobol"},
		{"plan", "oci:x:y"}, // no --agent
		{"wrap", "oci:x:y", "--agent", "a", "--platform", "linux/amd64/v1/x"},
	} {
		r := jbuild(t, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "jbuild:") {
			t.Errorf("jbuild %v: exit %d, stderr %q; want exit 2 with a message", args, r.code, r.stderr)
		}
	}
}

func TestHelpHasExamples(t *testing.T) {
	for _, c := range []string{"wrap", "plan", "unwrap", "agent push", "profiles"} {
		r := jbuild(t, append(strings.Fields(c), "--help")...)
		if r.code != 0 || !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("jbuild %s --help: exit %d, no Examples section:\n%s", c, r.code, r.stdout)
		}
	}
}

func TestPlanWritesNothing(t *testing.T) {
	dir := sampleLayout(t)
	before, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	r := jbuild(t, "plan", "oci:"+dir+":app-1.0", "--agent", sampleAgentDir(t), "--server-address", "10.1.2.3", "-o", "json")
	if r.code != 0 {
		t.Fatalf("plan: exit %d: %s", r.code, r.stderr)
	}
	var res struct {
		Platforms []struct {
			Plan struct {
				SchemaVersion int `json:"schemaVersion"`
				Runtime       struct{ Value string }
				Env           []struct{ Name, After string }
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("plan -o json is not JSON: %v\n%s", err, r.stdout)
	}
	if len(res.Platforms) != 1 || res.Platforms[0].Plan.SchemaVersion != 1 || res.Platforms[0].Plan.Runtime.Value != "java" {
		t.Fatalf("plan = %+v", res)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if !bytes.Equal(before, after) {
		t.Error("plan changed the layout's index.json")
	}
	text := jbuild(t, "wrap", "oci:"+dir+":app-1.0", "--agent", sampleAgentDir(t), "--server-address", "10.1.2.3", "--dry-run")
	if text.code != 0 || !strings.Contains(text.stdout, "JAVA_TOOL_OPTIONS") || !strings.Contains(text.stdout, "10.1.2.3") {
		t.Errorf("wrap --dry-run: exit %d\n%s%s", text.code, text.stdout, text.stderr)
	}
	after, _ = os.ReadFile(filepath.Join(dir, "index.json"))
	if !bytes.Equal(before, after) {
		t.Error("wrap --dry-run changed the layout's index.json")
	}
}

// A hostile agent archive fails with the entry named, exit 1, and nothing
// is written: no target tag, the source intact.
func TestHostileAgentArchiveWritesNothing(t *testing.T) {
	dir := sampleLayout(t)
	before, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	zpath := filepath.Join(t.TempDir(), "agent.java.zip")
	f, _ := os.Create(zpath)
	zw := zip.NewWriter(f)
	w, _ := zw.Create("agent.java/jennifer.jar")
	w.Write([]byte("jar"))
	w, _ = zw.Create("agent.java/../../../etc/cron.d/evil")
	w.Write([]byte("* * * * * root sh -c 'id'"))
	zw.Close()
	f.Close()
	r := jbuild(t, "wrap", "oci:"+dir+":app-1.0", "--agent", zpath, "--server-address", "10.0.0.1")
	if r.code != 1 || !strings.Contains(r.stderr, "evil") {
		t.Errorf("hostile zip: exit %d, stderr %q; want exit 1 naming the entry", r.code, r.stderr)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if !bytes.Equal(before, after) {
		t.Error("a failed wrap changed the layout")
	}
}

func TestWrapLayoutDefaultTargetPrintsDigest(t *testing.T) {
	dir := sampleLayout(t)
	r := jbuild(t, "wrap", "oci:"+dir+":app-1.0", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.1", "-q")
	if r.code != 0 {
		t.Fatalf("wrap: exit %d: %s", r.code, r.stderr)
	}
	want := "oci:" + dir + ":app-1.0-jennifer@sha256:"
	if !strings.HasPrefix(r.stdout, want) || r.stderr != "" {
		t.Errorf("stdout %q (want prefix %q), stderr %q (want empty with -q)", r.stdout, want, r.stderr)
	}
	// unwrap derives the original tag and finds it already there.
	u := jbuild(t, "unwrap", "oci:"+dir+":app-1.0-jennifer")
	if u.code != 0 || !strings.Contains(u.stderr, "already is the original") {
		t.Errorf("unwrap: exit %d: %s", u.code, u.stderr)
	}
}

func TestRegistryWrapAndAgentImage(t *testing.T) {
	reg := testenv.Registry(t)
	img, err := sampleimage.JavaApp()
	if err != nil {
		t.Fatal(err)
	}
	testenv.PushImage(t, reg+"/cli/app:1", img)
	// The agent as an image, then wrapped from that image.
	p := jbuild(t, "agent", "push", sampleAgentDir(t), reg+"/cli/jennifer-agent:java")
	if p.code != 0 {
		t.Fatalf("agent push: exit %d: %s", p.code, p.stderr)
	}
	w1 := jbuild(t, "wrap", reg+"/cli/app:1", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.1", "-t", reg+"/cli/app:from-dir")
	w2 := jbuild(t, "wrap", reg+"/cli/app:1", "--agent", reg+"/cli/jennifer-agent:java", "--server-address", "10.0.0.1", "-t", reg+"/cli/app:from-image")
	if w1.code != 0 || w2.code != 0 {
		t.Fatalf("wrap: %d %s / %d %s", w1.code, w1.stderr, w2.code, w2.stderr)
	}
	// The agent image's layer is the very agent layer of the wrapped image.
	agentImg := testenv.Image(t, reg+"/cli/jennifer-agent:java")
	agentLayers, _ := agentImg.Layers()
	wrapped := testenv.Image(t, reg+"/cli/app:from-dir")
	wl, _ := wrapped.Layers()
	al, _ := agentLayers[0].Digest()
	wd, _ := wl[len(wl)-2].Digest()
	if len(agentLayers) != 1 || al != wd {
		t.Errorf("agent image layer %s != wrapped image's agent layer %s", al, wd)
	}
	d1 := strings.TrimSpace(w1.stdout[strings.Index(w1.stdout, "@")+1:])
	d2 := strings.TrimSpace(w2.stdout[strings.Index(w2.stdout, "@")+1:])
	if d1 != d2 {
		t.Errorf("the same agent from a folder and from its agent image gave different images: %s vs %s", d1, d2)
	}
}

// A Go binary image is refused with the reason, exit 1.
func TestStaticBinaryRefused(t *testing.T) {
	reg := testenv.Registry(t)
	testenv.PushRandomImage(t, reg+"/cli/goapp:1", 1, 64, nil)
	r := jbuild(t, "wrap", reg+"/cli/goapp:1", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.1")
	if r.code != 1 || !strings.Contains(strings.ToLower(r.stderr), "runtime") {
		t.Errorf("exit %d, stderr %q; want exit 1 explaining no runtime was found", r.code, r.stderr)
	}
}

// `wrap --builder` with the agent folder sent through the session.
func TestWrapBuilderLocalAgent(t *testing.T) {
	reg := testenv.RealRegistry(t)
	addr := testenv.Buildkitd(t)
	testenv.PushJavaLike(t, reg+"/cli/remote:1")
	r := jbuild(t, "wrap", reg+"/cli/remote:1", "--builder", addr, "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5", "-q")
	if r.code != 0 || !strings.HasPrefix(r.stdout, reg+"/cli/remote:1-jennifer@sha256:") {
		t.Fatalf("exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	cf, err := testenv.Image(t, reg+"/cli/remote:1-jennifer").ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(cf.Config.Env, " "), "-javaagent:/opt/jennifer/agent.java/jennifer.jar") {
		t.Errorf("env %v", cf.Config.Env)
	}
	// A foreign target is refused before BuildKit is asked to push.
	testenv.PushJavaLike(t, reg+"/cli/remote:other")
	r = jbuild(t, "wrap", reg+"/cli/remote:1", "-t", reg+"/cli/remote:other", "--builder", addr, "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5")
	if r.code != 1 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("foreign target: exit %d, stderr %s", r.code, r.stderr)
	}
}
