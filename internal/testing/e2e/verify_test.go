package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/internal/runcheck"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// `jbuild verify --run` through the CLI, on the Java app wrapped with the
// test javaagent, in Docker and in containerd: the static checks pass and
// the agent connects (exit 0); the unwrapped image fails (exit 1).
func TestVerifyRunCLI(t *testing.T) {
	requireHeavy(t)
	dockerHost, containerdAddr := engines(t)
	bin := filepath.Join(t.TempDir(), "jbuild")
	if out, err := exec.Command("go", "build", "-o", bin, "../../../cmd/jbuild").CombinedOutput(); err != nil {
		t.Fatalf("building jbuild: %v\n%s", err, out)
	}
	img, err := Java.AppImage()
	if err != nil {
		t.Fatal(err)
	}
	agentDir, err := JavaAgent(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := wrapApp(t, "verify-java", img, agentDir, Java.Profile, wrapOptions(), bothEngines...)
	run := func(args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "DOCKER_HOST="+dockerHost, "CONTAINERD_ADDRESS="+containerdAddr, "CONTAINERD_NAMESPACE=k8s.io", "XDG_CACHE_HOME="+t.TempDir())
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), out.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, out.String()
	}
	for _, ref := range []string{"docker-daemon:" + w.WrappedRef, "containerd:" + w.WrappedRef} {
		code, out := run("verify", ref, "--run", "--wait", "60s")
		if code != 0 || !strings.Contains(out, "agent connected") {
			t.Errorf("verify --run %s: exit %d\n%s", ref, code, out)
		}
	}
	code, out := run("verify", "docker-daemon:"+w.BaseRef, "--run")
	if code != 1 || !strings.Contains(out, "not a jbuild output") {
		t.Errorf("verify --run of the unwrapped image: exit %d\n%s", code, out)
	}
	// An image that lives in a registry is loaded into Docker for the run.
	code, out = run("verify", testenv.RealRegistry(t)+"/e2e/verify-java:jennifer", "--run", "--wait", "60s")
	if code != 0 || !strings.Contains(out, "agent connected") {
		t.Errorf("verify --run of a registry image: exit %d\n%s", code, out)
	}
	// The README's first run: the repository's own sample agent reports
	// as a real one does, so verify --run passes with it too.
	sample, err := filepath.Abs("../../../examples/agents/jennifer-java-sample/agent.java")
	if err != nil {
		t.Fatal(err)
	}
	ws := wrapApp(t, "verify-sample", img, sample, Java.Profile, wrapOptions(), runcheck.EngineDocker)
	code, out = run("verify", "docker-daemon:"+ws.WrappedRef, "--run", "--wait", "60s")
	if code != 0 || !strings.Contains(out, "agent connected") || !strings.Contains(out, "agent=java-stand-in") {
		t.Errorf("verify --run with the sample agent: exit %d\n%s", code, out)
	}
}
