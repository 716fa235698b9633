package frontend

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/wrap"
)

// A single-stage build on a Java image with its own JAVA_TOOL_OPTIONS, the
// agent from an agent image: the result has the build's layers plus the
// agent layer (the agent image's very blob) and the settings layer, env
// merged, labels set; and `jbuild wrap` of the same build gives the same
// agent layer.
func TestFrontendSingleStageAgentImage(t *testing.T) {
	reg := testenv.RealRegistry(t)
	testenv.PushJavaLike(t, reg+"/fe/javabase:1")
	pushAgentImage(t, reg+"/fe/agent:java")
	out := reg + "/fe/app:single"
	b := build{
		dockerfile: "FROM " + reg + "/fe/javabase:1\nENV JAVA_TOOL_OPTIONS=\"-Xss1m\"\nCOPY app.jar /app/app.jar\n",
		files:      map[string]string{"app.jar": "not really a jar"},
		args:       map[string]string{ArgAgent: reg + "/fe/agent:java", ArgServerAddress: "10.0.0.5"},
		push:       out,
	}
	b.mustRun(t)
	img := image(t, out)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	jto := envOf(cf, "JAVA_TOOL_OPTIONS")
	if !strings.HasPrefix(jto, "-Xss1m ") || strings.Count(jto, "-javaagent:") != 1 {
		t.Errorf("JAVA_TOOL_OPTIONS = %q: want the Dockerfile's -Xss1m kept and one -javaagent", jto)
	}
	if cf.Config.Labels[buildplan.LabelProfile] != "jennifer-java" || cf.Config.Labels[buildplan.LabelRuntime] != "java" {
		t.Errorf("labels = %v", cf.Config.Labels)
	}
	layers, _ := img.Layers()
	agentImg := image(t, reg+"/fe/agent:java")
	al, _ := agentImg.Layers()
	want, _ := al[0].Digest()
	got, _ := layers[len(layers)-2].Digest()
	if got != want {
		t.Errorf("agent layer %s, want the agent image's layer %s (byte-identical)", got, want)
	}
	if cf.Config.Labels[buildplan.LabelLayer] == "" {
		t.Error("no io.jbuild.layer label")
	}

	// The same agent through `jbuild wrap` of the unwrapped build.
	plain := reg + "/fe/app:plain"
	b2 := b
	b2.args = map[string]string{ArgDisable: "1"}
	b2.push = plain
	b2.mustRun(t)
	res, err := wrap.Wrap(context.Background(), openStore(t, plain), openStore(t, plain+"-jennifer"), wrapOptions(t, reg+"/fe/agent:java"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Platforms[0].Layer != want {
		t.Errorf("jbuild wrap's agent layer %s != the frontend's %s", res.Platforms[0].Layer, want)
	}
	// The same plan: the same environment, the same jbuild labels, and the
	// same settings layer entries (paths, owners, modes; the bytes differ:
	// BuildKit writes that small layer itself).
	wrapped := image(t, plain+"-jennifer")
	wcf, _ := wrapped.ConfigFile()
	if strings.Join(wcf.Config.Env, "\n") != strings.Join(cf.Config.Env, "\n") {
		t.Errorf("env: wrap %v, frontend %v", wcf.Config.Env, cf.Config.Env)
	}
	for _, k := range []string{buildplan.LabelAgent, buildplan.LabelAgentDigest, buildplan.LabelProfile, buildplan.LabelRuntime, buildplan.LabelLayer} {
		if wcf.Config.Labels[k] != cf.Config.Labels[k] {
			t.Errorf("label %s: wrap %q, frontend %q", k, wcf.Config.Labels[k], cf.Config.Labels[k])
		}
	}
	ws, fs := layerHeaders(t, wrapped, 0), layerHeaders(t, img, 0)
	for name, h := range ws {
		f, ok := fs[name]
		if !ok || f.Uid != h.Uid || f.Gid != h.Gid || f.Mode&0o7777 != h.Mode&0o7777 || f.Typeflag != h.Typeflag {
			t.Errorf("settings layer %s: wrap %+v, frontend %+v", name, h, f)
		}
	}
}

// An agent image carries an index of its files (agent.LabelIndex) so the
// frontend plans without pulling it. One without the index (pushed by an
// older jbuild, or the label dropped) is read through the gateway instead:
// both give the same layers, environment and jbuild labels, and so does
// the agent image pinned by digest.
func TestFrontendAgentImageWithAndWithoutIndex(t *testing.T) {
	reg := testenv.RealRegistry(t)
	testenv.PushJavaLike(t, reg+"/fe/javabase:index")
	withIndex, without := reg+"/fe/agent:index", reg+"/fe/agent:no-index"
	pushAgentImage(t, withIndex)
	img := image(t, withIndex)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.Labels[agent.LabelIndex] == "" {
		t.Fatalf("agent image has no %s label", agent.LabelIndex)
	}
	c := cf.Config.DeepCopy()
	delete(c.Labels, agent.LabelIndex)
	stripped, err := mutate.Config(img, *c)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(without, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, stripped); err != nil {
		t.Fatal(err)
	}

	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	pinned := withIndex + "@" + d.String() // a tag and a digest, as users pin

	results := map[string]*v1.ConfigFile{}
	layers := map[string][]v1.Hash{}
	for i, ref := range []string{withIndex, without, pinned} {
		out := fmt.Sprintf("%s/fe/app:from-%d", reg, i)
		build{
			dockerfile: "FROM " + reg + "/fe/javabase:index\nCOPY app.jar /app/app.jar\n",
			files:      map[string]string{"app.jar": "index"},
			args:       map[string]string{ArgAgent: ref, ArgServerAddress: "10.0.0.5"},
			push:       out,
		}.mustRun(t)
		img := image(t, out)
		if results[ref], err = img.ConfigFile(); err != nil {
			t.Fatal(err)
		}
		ls, _ := img.Layers()
		for _, l := range ls {
			d, _ := l.Digest()
			layers[ref] = append(layers[ref], d)
		}
	}
	a, b := results[withIndex], results[without]
	if fmt.Sprint(layers[withIndex]) != fmt.Sprint(layers[without]) {
		t.Errorf("layers with the index %v, without %v", layers[withIndex], layers[without])
	}
	if fmt.Sprint(layers[withIndex]) != fmt.Sprint(layers[pinned]) {
		t.Errorf("layers by tag %v, pinned by digest %v", layers[withIndex], layers[pinned])
	}
	if strings.Join(a.Config.Env, "\n") != strings.Join(b.Config.Env, "\n") {
		t.Errorf("env with the index %v, without %v", a.Config.Env, b.Config.Env)
	}
	for k, v := range a.Config.Labels {
		if strings.Contains(v, "/fe/agent:") {
			continue // names the agent image
		}
		if b.Config.Labels[k] != v {
			t.Errorf("label %s: with the index %q, without %q", k, v, b.Config.Labels[k])
		}
	}
}
