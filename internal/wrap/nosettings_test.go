package wrap

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// otelOptions wraps with a profile that has no config file and no
// writable dir (the OpenTelemetry Java agent's shape): its plan has no
// settings. version names the jar, so two calls give two agents.
func otelOptions(t testing.TB, version string) Options {
	t.Helper()
	prof, err := buildplan.ParseProfile([]byte(`
name: otel-test
agent: OpenTelemetry
runtime: java
agentFile: opentelemetry-javaagent.jar
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
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "opentelemetry-javaagent.jar"), []byte("jar "+version), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := agent.Open(context.Background(), dir, agent.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return Options{Agent: a, Profile: prof, Plan: buildplan.Options{JbuildVersion: "test"}, Layer: agentlayer.Options{CacheDir: t.TempDir()}}
}

// A plan without settings adds the agent layer alone (no empty settings
// layer, no settings-layer label, one history entry); the output is still
// jbuild's own for a rerun (up to date), an upgrade in place (one layer
// replaced, not stacked) and unwrap (the exact base back).
func TestWrapWithoutSettingsAddsOneLayer(t *testing.T) {
	reg := testenv.Registry(t)
	ctx := context.Background()
	src, dst := reg+"/nosettings/api:1", reg+"/nosettings/api:1-opentelemetry"
	base := pushJava(t, src)
	baseLayers, _ := getImage(t, src).Layers()

	res, err := Wrap(ctx, store(t, src), store(t, dst), otelOptions(t, "1"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Platforms[0].Plan.Settings); n != 0 {
		t.Fatalf("the plan has %d settings entries, want none", n)
	}
	if res.Platforms[0].SettingsLayer != nil {
		t.Errorf("the result names a settings layer %s", res.Platforms[0].SettingsLayer)
	}
	out := getImage(t, dst)
	layers, _ := out.Layers()
	if len(layers) != len(baseLayers)+1 {
		t.Fatalf("the output has %d layers over the base's %d, want the agent layer alone", len(layers), len(baseLayers))
	}
	if _, ok := layerFiles(t, layers[len(layers)-1])["opt/opentelemetry/opentelemetry-javaagent.jar"]; !ok {
		t.Error("the top layer is not the agent layer")
	}
	cf, _ := out.ConfigFile()
	if l, ok := cf.Config.Labels[buildplan.LabelSettingsLayer]; ok {
		t.Errorf("label %s=%s on an output without a settings layer", buildplan.LabelSettingsLayer, l)
	}
	if last := cf.History[len(cf.History)-1]; last.Comment != buildplan.HistoryAgentLayer {
		t.Errorf("top history entry %q, want the agent layer's", last.Comment)
	}
	if err := checkImage(out, getImage(t, src)); err != nil {
		t.Errorf("the output is not taken for jbuild's own: %v", err)
	}
	first, _ := out.Digest()

	// Rerun: up to date, the same digest.
	if _, err := Wrap(ctx, store(t, src), store(t, dst), otelOptions(t, "1")); err != nil {
		t.Fatal(err)
	}
	if d, _ := getImage(t, dst).Digest(); d != first {
		t.Errorf("a rerun changed the output %s -> %s", first, d)
	}

	// Upgrade in place: rebuilt from the recorded base, one agent layer.
	up, err := Wrap(ctx, store(t, dst), store(t, dst), otelOptions(t, "2"))
	if err != nil {
		t.Fatal(err)
	}
	if !up.Upgrade || up.BaseDigest != base.String() {
		t.Errorf("upgrade=%v base %s, want an upgrade of %s", up.Upgrade, up.BaseDigest, base)
	}
	upLayers, _ := getImage(t, dst).Layers()
	if len(upLayers) != len(baseLayers)+1 {
		t.Errorf("the upgrade has %d layers over the base's %d, want the agent layer replaced", len(upLayers), len(baseLayers))
	}

	// Unwrap: the exact base.
	if _, err := Unwrap(ctx, store(t, dst), store(t, src+"-orig"), Options{}); err != nil {
		t.Fatal(err)
	}
	if d, _ := getImage(t, src+"-orig").Digest(); d != base {
		t.Errorf("unwrap wrote %s, want the base %s", d, base)
	}
}

// An image built FROM a settings-less output (a layer more) is a new
// source, not jbuild's output: the seal covers the layer count.
func TestWithoutSettingsDerivedImageIsNotAnOutput(t *testing.T) {
	reg := testenv.Registry(t)
	ctx := context.Background()
	src, dst := reg+"/nosettings-derived/api:1", reg+"/nosettings-derived/api:1-opentelemetry"
	pushJava(t, src)
	if _, err := Wrap(ctx, store(t, src), store(t, dst), otelOptions(t, "1")); err != nil {
		t.Fatal(err)
	}
	out := getImage(t, dst)
	extra := testenv.HeaderLayer(t, &tar.Header{Name: "app/extra.jar", Typeflag: tar.TypeReg, Mode: 0o644})
	derived, err := mutate.Append(out, mutate.Addendum{Layer: extra, History: v1.History{CreatedBy: "COPY extra.jar /app/"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := checkImage(derived, nil); err == nil {
		t.Error("an image with a layer over a settings-less output passes as jbuild's output")
	}
	testenv.PushImage(t, src+"-derived", derived)
	if _, err := Unwrap(ctx, store(t, src+"-derived"), store(t, src+"-unwrapped"), Options{}); err == nil {
		t.Error("unwrap of an image built FROM a settings-less output succeeded")
	}
}
