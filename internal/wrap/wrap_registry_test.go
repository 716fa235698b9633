package wrap

import (
	"context"
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// A Java image with its own JAVA_TOOL_OPTIONS, registry to registry: the
// option is kept, the agent flag added once, one layer added on top of the
// untouched base layers, labels recorded. Base layers are read once (to
// keep the base's own folders above the install dir as they are) and never
// uploaded again.
func TestWrapRegistryMergesEnvAndKeepsBaseLayers(t *testing.T) {
	reg := testenv.Registry(t)
	ctx := context.Background()
	baseImg, err := testenv.RandomImage(testenv.Spec{Layers: 2, LayerSize: 256 << 10, Config: javaConfig("1000:1000", "JAVA_TOOL_OPTIONS=-Xmx512m")})
	if err != nil {
		t.Fatal(err)
	}
	baseDigest := testenv.PushImage(t, reg+"/envmerge/app:1", baseImg)

	counter := newBlobCounter()
	opts := transport.Options{Registry: transport.RegistryOptions{Transport: counter}}
	filesCache := t.TempDir()
	wopts := javaOptions(t, sampleAgent(t))
	wopts.LayerFilesCache = filesCache
	res, err := Wrap(ctx, storeWith(t, reg+"/envmerge/app:1", opts), storeWith(t, reg+"/envmerge/app:1-jennifer", opts), wopts)
	if err != nil {
		t.Fatal(err)
	}
	// The next wrap of an image on this base (here with a new agent)
	// reads none of its layers again.
	wopts = javaOptions(t, copyAgent(t, map[string]string{"jennifer.agent.java-5.7.0.jar": "new"}))
	wopts.LayerFilesCache = filesCache
	if _, err := Wrap(ctx, storeWith(t, reg+"/envmerge/app:1", opts), storeWith(t, reg+"/envmerge/app:1-next", opts), wopts); err != nil {
		t.Fatal(err)
	}
	// Positive control: the wraps read through counter (the base config is
	// a blob every wrap fetches), so the zero and one counts below are
	// counts, not a transport that was bypassed.
	cfgName, _ := baseImg.ConfigName()
	if n := counter.count(cfgName); n == 0 {
		t.Fatalf("the counting transport saw no GET of the base config %s: the wraps did not use the caller's RoundTripper", cfgName)
	}
	baseLayers, _ := baseImg.Layers()
	for _, l := range baseLayers {
		d, _ := l.Digest()
		if n := counter.count(d); n > 1 {
			t.Errorf("base layer %s downloaded %d times in two wraps; a base layer is read once per machine", d, n)
		}
	}

	out := getImage(t, reg+"/envmerge/app:1-jennifer")
	if d, _ := out.Digest(); d.String() != res.TargetDigest {
		t.Errorf("target digest %s, result says %s", d, res.TargetDigest)
	}
	layers, _ := out.Layers()
	if len(layers) != len(baseLayers)+2 {
		t.Fatalf("wrapped image has %d layers, want %d (agent layer + settings layer)", len(layers), len(baseLayers)+2)
	}
	for i, l := range baseLayers {
		want, _ := l.Digest()
		got, _ := layers[i].Digest()
		if want != got {
			t.Errorf("layer %d changed: %s -> %s", i, want, got)
		}
	}
	cf, _ := out.ConfigFile()
	jto, _ := envOf(cf, "JAVA_TOOL_OPTIONS")
	if !strings.HasPrefix(jto, "-Xmx512m ") || strings.Count(jto, "-javaagent:") != 1 || !strings.Contains(jto, "/jennifer.jar") {
		t.Errorf("JAVA_TOOL_OPTIONS = %q: want the image's -Xmx512m kept and one -javaagent flag added", jto)
	}
	if cf.Config.User != "1000:1000" || cf.Config.Entrypoint[0] != "java" || cf.Config.WorkingDir != "/app" {
		t.Errorf("user/entrypoint/workdir changed: %q %q %q", cf.Config.User, cf.Config.Entrypoint, cf.Config.WorkingDir)
	}
	labels := cf.Config.Labels
	if labels[buildplan.LabelBaseDigest] != baseDigest.String() || labels[buildplan.LabelBaseName] != reg+"/envmerge/app:1" {
		t.Errorf("base labels = %q, %q", labels[buildplan.LabelBaseName], labels[buildplan.LabelBaseDigest])
	}
	agentDiff, _ := layers[len(layers)-2].DiffID()
	settingsDiff, _ := layers[len(layers)-1].DiffID()
	if labels[buildplan.LabelLayer] != agentDiff.String() || labels[buildplan.LabelSettingsLayer] != settingsDiff.String() {
		t.Errorf("labels %s=%q %s=%q, want the layers' diffIDs %s %s", buildplan.LabelLayer, labels[buildplan.LabelLayer],
			buildplan.LabelSettingsLayer, labels[buildplan.LabelSettingsLayer], agentDiff, settingsDiff)
	}
	if labels[buildplan.LabelRuntime] != "java" {
		t.Errorf("runtime label = %q", labels[buildplan.LabelRuntime])
	}
	files := layerFiles(t, layers[len(layers)-2])
	if _, ok := files["opt/jennifer/agent.java/jennifer.jar"]; !ok {
		t.Fatalf("agent layer lacks opt/jennifer/agent.java/jennifer.jar; has %v", keys(files))
	}
	for name, h := range files {
		if h.Uid != 0 || h.Gid != 0 || h.Mode&0o7022 != 0 {
			t.Errorf("agent layer %s: owner %d:%d mode %o: want root-owned, not group/world-writable, no setuid", name, h.Uid, h.Gid, h.Mode)
		}
	}
	settings := layerFiles(t, layers[len(layers)-1])
	logs, ok := settings["opt/jennifer/agent.java/logs"]
	if !ok || logs.Uid != 1000 || logs.Gid != 1000 {
		t.Errorf("logs dir = %+v: want owned by the image user 1000:1000", logs)
	}
	conf, ok := settings["opt/jennifer/agent.java/conf/jennifer.conf"]
	if !ok || conf.Uid != 1000 {
		t.Errorf("settings layer conf/jennifer.conf = %+v: want the generated config, owned by 1000", conf)
	}
	if _, ok := settings["opt/jennifer/agent.java/jennifer.jar"]; ok {
		t.Error("the settings layer repeats jennifer.jar; it belongs to the agent layer only")
	}

	// Wrapping again changes nothing: same digest, nothing written.
	res2, err := Wrap(ctx, store(t, reg+"/envmerge/app:1"), store(t, reg+"/envmerge/app:1-jennifer"), javaOptions(t, sampleAgent(t)))
	if err != nil {
		t.Fatal(err)
	}
	if !res2.Unchanged || res2.TargetDigest != res.TargetDigest {
		t.Errorf("second wrap: unchanged=%v digest %s, want unchanged %s", res2.Unchanged, res2.TargetDigest, res.TargetDigest)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The same agent gives the same agent layer digest on two runs with
// separate caches, even for images with different users and different
// server settings: only the small settings layer differs.
func TestWrapSameAgentLayerDigestTwice(t *testing.T) {
	reg := testenv.Registry(t)
	ctx := context.Background()
	testenv.PushRandomImage(t, reg+"/samelayer/a:1", 1, 1024, javaConfig(""))
	testenv.PushRandomImage(t, reg+"/samelayer/b:1", 2, 2048, javaConfig("1000:1000"))
	r1, err := Wrap(ctx, store(t, reg+"/samelayer/a:1"), store(t, reg+"/samelayer/a:1-jennifer"), javaOptions(t, sampleAgent(t)))
	if err != nil {
		t.Fatal(err)
	}
	opts := javaOptions(t, copyAgent(t, nil))
	opts.Plan.ServerAddress = "10.9.8.7"
	r2, err := Wrap(ctx, store(t, reg+"/samelayer/b:1"), store(t, reg+"/samelayer/b:1-jennifer"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Platforms[0].Layer != r2.Platforms[0].Layer {
		t.Errorf("agent layer digests differ: %s vs %s", r1.Platforms[0].Layer, r2.Platforms[0].Layer)
	}
	if *r1.Platforms[0].SettingsLayer == *r2.Platforms[0].SettingsLayer {
		t.Errorf("settings layers are equal (%s) for different users and servers", r1.Platforms[0].SettingsLayer)
	}
}

// Wrapping a jbuild output replaces its agent layer; unwrap gives back the
// exact base digest.
func TestWrapUpgradeAndUnwrap(t *testing.T) {
	reg := testenv.Registry(t)
	ctx := context.Background()
	base := testenv.PushRandomImage(t, reg+"/upgrade/app:1", 2, 4096, javaConfig("", "JAVA_TOOL_OPTIONS=-Xss1m"))
	if _, err := Wrap(ctx, store(t, reg+"/upgrade/app:1"), store(t, reg+"/upgrade/app:1-jennifer"), javaOptions(t, sampleAgent(t))); err != nil {
		t.Fatal(err)
	}
	first := getImage(t, reg+"/upgrade/app:1-jennifer")
	firstLayers, _ := first.Layers()

	// A newer agent, wrapped onto the output itself, in place.
	newer := copyAgent(t, map[string]string{"lib/jennifer-extra-5.7.0.jar": "newer agent"})
	res, err := Wrap(ctx, store(t, reg+"/upgrade/app:1-jennifer"), store(t, reg+"/upgrade/app:1-jennifer"), javaOptions(t, newer))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Upgrade || res.BaseDigest != base.String() {
		t.Errorf("upgrade=%v base %s, want an upgrade of base %s", res.Upgrade, res.BaseDigest, base)
	}
	up := getImage(t, reg+"/upgrade/app:1-jennifer")
	upLayers, _ := up.Layers()
	if len(upLayers) != len(firstLayers) {
		t.Fatalf("upgrade has %d layers, first wrap %d: the agent layer must be replaced, not stacked", len(upLayers), len(firstLayers))
	}
	if _, ok := layerFiles(t, upLayers[len(upLayers)-2])["opt/jennifer/agent.java/lib/jennifer-extra-5.7.0.jar"]; !ok {
		t.Error("upgraded layer lacks the newer agent's file")
	}
	cf, _ := up.ConfigFile()
	jto, _ := envOf(cf, "JAVA_TOOL_OPTIONS")
	if strings.Count(jto, "-javaagent:") != 1 || strings.Count(jto, "-Xss1m") != 1 {
		t.Errorf("after upgrade JAVA_TOOL_OPTIONS = %q: want each flag once", jto)
	}

	// The source tag moves on; unwrap still finds the base by digest.
	testenv.PushRandomImage(t, reg+"/upgrade/app:1", 1, 10, javaConfig(""))
	ures, err := Unwrap(ctx, store(t, reg+"/upgrade/app:1-jennifer"), store(t, reg+"/upgrade/app:1-orig"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := getImage(t, reg+"/upgrade/app:1-orig")
	if d, _ := got.Digest(); d != base || ures.TargetDigest != base.String() {
		t.Errorf("unwrap wrote %s, want the exact base %s", d, base)
	}
	// Unwrapping onto the moved tag is refused without --force.
	if _, err := Unwrap(ctx, store(t, reg+"/upgrade/app:1-jennifer"), store(t, reg+"/upgrade/app:1"), Options{}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("unwrap over another image: err = %v, want a refusal mentioning --force", err)
	}
}

// The source is never overwritten and a foreign target needs --force.
func TestWrapRefusesSourceAndForeignTarget(t *testing.T) {
	reg := testenv.Registry(t)
	ctx := context.Background()
	src := testenv.PushRandomImage(t, reg+"/refuse/app:1", 1, 100, javaConfig(""))
	other := testenv.PushRandomImage(t, reg+"/refuse/app:other", 1, 100, javaConfig(""))

	_, err := Wrap(ctx, store(t, reg+"/refuse/app:1"), store(t, reg+"/refuse/app:1"), javaOptions(t, sampleAgent(t)))
	if err == nil || !strings.Contains(err.Error(), "never overwrites") {
		t.Errorf("wrap onto the source: err = %v", err)
	}
	_, err = Wrap(ctx, store(t, reg+"/refuse/app:1"), store(t, reg+"/refuse/app:other"), javaOptions(t, sampleAgent(t)))
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("wrap onto a foreign image: err = %v", err)
	}
	if d, _ := getImage(t, reg+"/refuse/app:other").Digest(); d != other {
		t.Errorf("foreign target changed to %s", d)
	}
	if d, _ := getImage(t, reg+"/refuse/app:1").Digest(); d != src {
		t.Errorf("source changed to %s", d)
	}
	opts := javaOptions(t, sampleAgent(t))
	opts.Force = true
	if _, err := Wrap(ctx, store(t, reg+"/refuse/app:1"), store(t, reg+"/refuse/app:other"), opts); err != nil {
		t.Errorf("with Force: %v", err)
	}
}

// A multi-platform index: every platform wrapped, attestation entries
// dropped and reported, the index keeps its platforms.
func TestWrapIndexEveryPlatform(t *testing.T) {
	reg := testenv.Registry(t)
	ctx := context.Background()
	plats := []v1.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "arm64"}}
	testenv.PushIndex(t, reg+"/multi/app:1", 1, 512, func(p v1.Platform, cf *v1.ConfigFile) { javaConfig("")(cf) }, plats...)
	res, err := Wrap(ctx, store(t, reg+"/multi/app:1"), store(t, reg+"/multi/app:1-jennifer"), javaOptions(t, sampleAgent(t)))
	if err != nil {
		t.Fatal(err)
	}
	a, err := store(t, reg+"/multi/app:1-jennifer").Get(ctx)
	if err != nil || a.Index == nil {
		t.Fatalf("target: %v (index=%v)", err, a != nil && a.Index != nil)
	}
	im, _ := a.Index.IndexManifest()
	if len(im.Manifests) != 2 || len(res.Platforms) != 2 {
		t.Fatalf("target index has %d manifests (%d planned), want 2", len(im.Manifests), len(res.Platforms))
	}
	for _, d := range im.Manifests {
		img, err := a.Index.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := img.ConfigFile()
		if cf.Architecture != d.Platform.Architecture {
			t.Errorf("descriptor %s holds a %s config", d.Platform, cf.Architecture)
		}
		if cf.Config.Labels[buildplan.LabelLayer] == "" {
			t.Errorf("%s not wrapped", d.Platform)
		}
	}
	if im.Annotations[buildplan.LabelBaseDigest] == "" {
		t.Error("index lacks the base digest annotation")
	}
	// --platform selects.
	opts := javaOptions(t, sampleAgent(t))
	opts.Platforms = []v1.Platform{plats[1]}
	res, err = Wrap(ctx, store(t, reg+"/multi/app:1"), store(t, reg+"/multi/app:1-arm"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Platforms) != 1 || res.Platforms[0].Platform.Architecture != "arm64" || len(res.Dropped) != 1 {
		t.Errorf("--platform linux/arm64: platforms %v dropped %v", res.Platforms, res.Dropped)
	}
}

// A missing source is a clear error and writes nothing.
func TestWrapMissingSource(t *testing.T) {
	reg := testenv.Registry(t)
	_, err := Wrap(context.Background(), store(t, reg+"/missing/app:1"), store(t, reg+"/missing/app:1-jennifer"), javaOptions(t, sampleAgent(t)))
	if !errors.Is(err, transport.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if _, err := store(t, reg+"/missing/app:1-jennifer").Get(context.Background()); !errors.Is(err, transport.ErrNotFound) {
		t.Errorf("target exists after a failed wrap: %v", err)
	}
}
