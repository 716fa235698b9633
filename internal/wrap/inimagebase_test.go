package wrap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// The base of a frontend output is rebuilt byte for byte: an image made
// the way BuildKit's exporter makes one (config keys sorted, "config" in
// the Dockerfile frontend's field order, manifest indented), the apply step
// run on it as the frontend runs it, then rebuilt: config and manifest are
// the original bytes, with and without a creation time of its own. On a
// real buildkitd: TestFrontendOutputUnwrapVerifyUpgrade.
func TestRestoredImageIsTheOriginal(t *testing.T) {
	reg := testenv.Registry(t)
	pushJava(t, reg+"/restore/java:1")
	res, err := Plan(context.Background(), store(t, reg+"/restore/java:1"), javaOptions(t, sampleAgent(t)))
	if err != nil {
		t.Fatal(err)
	}
	plan := *res.Platforms[0].Plan
	plan.Labels = map[string]string{}
	for k, v := range res.Platforms[0].Plan.Labels {
		if k != buildplan.LabelBaseDigest {
			plan.Labels[k] = v // a Dockerfile build records no stored base
		}
	}
	layers := make([]v1.Layer, 4)
	for i := range layers {
		if layers[i], err = random.Layer(256, types.DockerLayer); err != nil {
			t.Fatal(err)
		}
	}
	// Without settings (the agent layer alone, as a profile without a
	// config file or writable dir gives) the record says one layer.
	noSettings := plan
	noSettings.Settings = nil
	for _, c := range []struct {
		plan    *buildplan.Plan
		created bool
	}{{&plan, true}, {&plan, false}, {&noSettings, true}, {&noSettings, false}} {
		created, plan := c.created, c.plan
		layers := layers[:2+plan.AddedLayers()]
		epoch := time.Unix(1700000000, 0).UTC()
		orig := dockerspec.DockerOCIImage{}
		orig.OS, orig.Architecture = "linux", "amd64"
		if created {
			orig.Created = &epoch
		}
		orig.Config.Env = []string{"PATH=/usr/bin:/bin", "JAVA_TOOL_OPTIONS=-Xss1m <&>"}
		orig.Config.Labels = map[string]string{"app": "demo", buildplan.LabelVersion: "copied"}
		orig.Config.Entrypoint = []string{"java", "-jar", "/app/app.jar"}
		orig.Config.WorkingDir = "/app"
		orig.Config.Shell = []string{"/bin/sh", "-c"}
		orig.History = []ocispec.History{{Created: &epoch, CreatedBy: "base"}, {Created: &epoch, CreatedBy: "COPY app.jar /app/app.jar"}, {Created: &epoch, CreatedBy: "ENV x", EmptyLayer: true}}
		origCfg := exported(t, orig, layers[:2])
		origMf := manifestOf(t, origCfg, layers[:2])

		// The apply step, as the frontend runs it: on the config before
		// the export.
		pre, _ := json.Marshal(orig)
		var img dockerspec.DockerOCIImage
		if err := json.Unmarshal(pre, &img); err != nil {
			t.Fatal(err)
		}
		parts := buildplan.ImageParts{Config: img.Config.ImageConfig, Shell: img.Config.Shell, Created: orig.Created, History: orig.History}
		applied := buildplan.ApplyImage(plan, parts, buildplan.LayerDiffIDs{})
		if r, err := buildplan.ParseRestore(applied.Config.Labels); err != nil || r.Layers != plan.AddedLayers() {
			t.Fatalf("restore record %+v, %v; want %d layers", r, err, plan.AddedLayers())
		}
		img.Config.Env, img.Config.Labels, img.History = applied.Config.Env, applied.Config.Labels, applied.History
		outCfg := exported(t, img, layers)
		out, err := partial.CompressedToImage(&rawImage{out: layerImage{layers}, config: outCfg, manifest: manifestOf(t, outCfg, layers), mediaType: types.DockerManifestSchema2})
		if err != nil {
			t.Fatal(err)
		}

		if err := checkImage(out, nil); err != nil {
			t.Errorf("created=%v, %d layers added: not taken for jbuild's output: %v", created, plan.AddedLayers(), err)
		}
		base, err := restoredImage(out)
		if err != nil {
			t.Fatalf("created=%v: %v", created, err)
		}
		gotCfg, _ := base.RawConfigFile()
		gotMf, _ := base.RawManifest()
		if !bytes.Equal(gotCfg, origCfg) {
			t.Errorf("created=%v: rebuilt config\n%s\nwant\n%s", created, gotCfg, origCfg)
		}
		if !bytes.Equal(gotMf, origMf) {
			t.Errorf("created=%v: rebuilt manifest\n%s\nwant\n%s", created, gotMf, origMf)
		}
		if n, _ := base.Layers(); len(n) != 2 {
			t.Errorf("created=%v: rebuilt base has %d layers, want 2", created, len(n))
		}
	}
}

// exported writes a config the way BuildKit's image exporter does: the
// frontend's JSON patched with rootfs, history and (when missing) a
// creation time, top-level keys sorted.
func exported(t *testing.T, img dockerspec.DockerOCIImage, layers []v1.Layer) []byte {
	t.Helper()
	b, err := json.Marshal(img)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	rootfs := ocispec.RootFS{Type: "layers"}
	for _, l := range layers {
		d, _ := l.DiffID()
		rootfs.DiffIDs = append(rootfs.DiffIDs, digest.Digest(d.String()))
	}
	m["rootfs"], _ = json.Marshal(rootfs)
	m["history"], _ = json.Marshal(img.History)
	if _, ok := m["created"]; !ok {
		var last *time.Time
		for _, h := range img.History {
			if h.Created != nil {
				last = h.Created
			}
		}
		m["created"], _ = json.Marshal(&last)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func manifestOf(t *testing.T, cfg []byte, layers []v1.Layer) []byte {
	t.Helper()
	mf := ocispec.Manifest{MediaType: string(types.DockerManifestSchema2), Config: ocispec.Descriptor{MediaType: string(types.DockerConfigJSON), Digest: digest.FromBytes(cfg), Size: int64(len(cfg))}}
	mf.SchemaVersion = 2
	for _, l := range layers {
		d, _ := l.Digest()
		size, _ := l.Size()
		mf.Layers = append(mf.Layers, ocispec.Descriptor{MediaType: string(types.DockerLayer), Digest: digest.Digest(d.String()), Size: size})
	}
	b, err := json.MarshalIndent(mf, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// layerImage serves layers by digest (all rawImage asks of the output).
type layerImage struct{ layers []v1.Layer }

func (l layerImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	for _, x := range l.layers {
		if d, _ := x.Digest(); d == h {
			return x, nil
		}
	}
	return nil, fmt.Errorf("no layer %s", h)
}
