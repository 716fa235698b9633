package main

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// layoutImage reads the image tagged tag from an OCI layout.
func layoutImage(t *testing.T, dir, tag string) v1.Image {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		if d.Annotations["org.opencontainers.image.ref.name"] == tag {
			img, err := idx.Image(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			return img
		}
	}
	t.Fatalf("no %s in %s", tag, dir)
	return nil
}

func digestOf(t *testing.T, img v1.Image) string {
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// `FROM app:1.0-jennifer` + `COPY extra.jar`, then `jbuild wrap` with no
// -t: the derived image is a new source. Its tag is not written, the
// result goes to derived-1.0-jennifer and keeps extra.jar.
func TestWrapDerivedImageDefaultTarget(t *testing.T) {
	dir := sampleLayout(t)
	if r := jbuild(t, "wrap", "oci:"+dir+":app-1.0", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.1", "-q"); r.code != 0 {
		t.Fatalf("wrap: exit %d: %s", r.code, r.stderr)
	}
	extra := testenv.HeaderLayer(t, &tar.Header{Name: "app/extra.jar", Typeflag: tar.TypeReg, Mode: 0o644})
	derived, err := mutate.Append(layoutImage(t, dir, "app-1.0-jennifer"), mutate.Addendum{Layer: extra})
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(derived, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "derived-1.0"})); err != nil {
		t.Fatal(err)
	}
	before := digestOf(t, derived)

	r := jbuild(t, "wrap", "oci:"+dir+":derived-1.0", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.1")
	if r.code != 0 {
		t.Fatalf("wrap of the derived image: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout+r.stderr, "derived-1.0-jennifer") || !strings.Contains(r.stderr, "not jbuild's output") {
		t.Errorf("want the result in derived-1.0-jennifer and a note saying why; stdout %q stderr %q", r.stdout, r.stderr)
	}
	if got := digestOf(t, layoutImage(t, dir, "derived-1.0")); got != before {
		t.Errorf("the source tag derived-1.0 was overwritten: %s, was %s", got, before)
	}
	out := layoutImage(t, dir, "derived-1.0-jennifer")
	srcLayers, _ := derived.Layers()
	outLayers, _ := out.Layers()
	if len(outLayers) != len(srcLayers)+2 {
		t.Fatalf("result has %d layers from %d: a layer was dropped", len(outLayers), len(srcLayers))
	}
	ed, _ := extra.Digest()
	if got, _ := outLayers[len(srcLayers)-1].Digest(); got != ed {
		t.Errorf("the derived image's own layer (extra.jar) is not in the result")
	}
}

// The README's upgrade example: a new agent for a monitored image, with
// no flag given, keeps the image's settings and says so.
func TestWrapUpgradeInPlaceCarriesSettings(t *testing.T) {
	dir := sampleLayout(t)
	if r := jbuild(t, "wrap", "oci:"+dir+":app-1.0", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.7", "--server-port", "7000", "--domain-id", "2000", "-q"); r.code != 0 {
		t.Fatalf("wrap: exit %d: %s", r.code, r.stderr)
	}
	newAgent := filepath.Join(t.TempDir(), "agent.java")
	if err := os.CopyFS(newAgent, os.DirFS(sampleAgentDir(t))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(newAgent, "conf", "jennifer.conf"), []byte("server_address = 192.0.2.1\nserver_port = 5000\ndomain_id = 1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := jbuild(t, "wrap", "oci:"+dir+":app-1.0-jennifer", "--agent", newAgent)
	if r.code != 0 {
		t.Fatalf("upgrade: exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "carried forward") || !strings.Contains(r.stderr, "server address 10.0.0.7") {
		t.Errorf("the summary does not say what carried forward: %s", r.stderr)
	}
	img := layoutImage(t, dir, "app-1.0-jennifer")
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	conf := testenv.LayerFile(t, layers[len(layers)-1], "opt/jennifer/agent.java/conf/jennifer.conf")
	for _, want := range []string{"server_address = 10.0.0.7", "server_port = 7000", "domain_id = 2000"} {
		if !strings.Contains(conf, want) {
			t.Errorf("the upgraded image's agent config lacks %q (the new bundle's own config must not win):\n%s", want, conf)
		}
	}
	base, _ := layoutImage(t, dir, "app-1.0").Layers()
	if len(layers) != len(base)+2 {
		t.Errorf("the upgrade stacked layers: %d on a base of %d", len(layers), len(base))
	}
}
