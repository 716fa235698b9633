package wrap

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// Another agent's wrap onto a tag that holds a JENNIFER output (or the
// reverse) needs --force: it would change what monitors the tag's
// containers. With --force it replaces it.
func TestWrapOntoAnotherProfilesTarget(t *testing.T) {
	reg := testenv.Registry(t)
	ctx := context.Background()
	src, target := reg+"/swap/api:1", reg+"/swap/api:1-monitored"
	pushJava(t, src)
	if _, err := Wrap(ctx, store(t, src), store(t, target), javaOptions(t, sampleAgent(t))); err != nil {
		t.Fatal(err)
	}
	prof, err := buildplan.ParseProfile([]byte(`
name: otel-test
agent: OpenTelemetry
runtime: java
bundleMarkers: [opentelemetry-javaagent.jar]
installDir: /opt/opentelemetry
env:
  - name: JAVA_TOOL_OPTIONS
    op: append
    separator: " "
    value: "-javaagent:${INSTALL_DIR}/opentelemetry-javaagent.jar"
`), "otel-test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := prof.Suffix(); got != "-opentelemetry" {
		t.Errorf("the OpenTelemetry profile's default suffix is %q, want -opentelemetry", got)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "opentelemetry-javaagent.jar"), []byte("jar"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := agent.Open(ctx, dir, agent.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Agent: a, Profile: prof, Plan: buildplan.Options{JbuildVersion: "test"}, Layer: agentlayer.Options{CacheDir: t.TempDir()}}
	before := getImage(t, target)
	_, err = Wrap(ctx, store(t, src), store(t, target), opts)
	if err == nil || !strings.Contains(err.Error(), "profile jennifer-java") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("another agent onto a JENNIFER output: %v, want a refusal naming the profile and --force", err)
	}
	d1, _ := before.Digest()
	if d2, _ := getImage(t, target).Digest(); d1 != d2 {
		t.Errorf("the refused wrap changed the target: %s -> %s", d1, d2)
	}
	opts.Force = true
	if _, err := Wrap(ctx, store(t, src), store(t, target), opts); err != nil {
		t.Fatalf("with --force: %v", err)
	}
	cf, _ := getImage(t, target).ConfigFile()
	if cf.Config.Labels[buildplan.LabelProfile] != "otel-test" {
		t.Errorf("after --force the target's profile is %q", cf.Config.Labels[buildplan.LabelProfile])
	}
}
