package wrap

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/jbuild-dev/jbuild/internal/testing/sampleimage"
)

// OCI layout in and out, with a named non-root USER resolved through the
// image's own /etc/passwd: the agent's writable dirs belong to that user.
func TestWrapLayoutNamedUser(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := sampleimage.Write(dir, "app-1.0"); err != nil {
		t.Fatal(err)
	}
	res, err := Wrap(ctx, store(t, "oci:"+dir+":app-1.0"), store(t, "oci:"+dir+":app-1.0-jennifer"), javaOptions(t, sampleAgent(t)))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Platforms[0].Plan.User; got.UID != 1000 || got.GID != 1000 {
		t.Errorf("user resolved to %d:%d, want app = 1000:1000 from /etc/passwd", got.UID, got.GID)
	}
	img := getImage(t, "oci:"+dir+":app-1.0-jennifer")
	layers, _ := img.Layers()
	files := layerFiles(t, layers[len(layers)-1]) // the settings layer
	for _, d := range []string{"opt/jennifer/agent.java/logs", "opt/jennifer/agent.java/conf"} {
		if h := files[d]; h == nil || h.Uid != 1000 || h.Gid != 1000 {
			t.Errorf("%s = %+v, want owned by 1000:1000", d, h)
		}
	}
	// The source tag is still there, untouched.
	p, _ := layout.FromPath(dir)
	ii, _ := p.ImageIndex()
	im, _ := ii.IndexManifest()
	tags := map[string]bool{}
	for _, d := range im.Manifests {
		tags[d.Annotations["org.opencontainers.image.ref.name"]] = true
	}
	if !tags["app-1.0"] || !tags["app-1.0-jennifer"] {
		t.Errorf("layout tags after wrap: %v", tags)
	}
	// Unwrap within the layout gives back the sample image digest.
	want, _ := getImage(t, "oci:"+dir+":app-1.0").Digest()
	if _, err := Unwrap(ctx, store(t, "oci:"+dir+":app-1.0-jennifer"), store(t, "oci:"+dir+":restored"), Options{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := getImage(t, "oci:"+dir+":restored").Digest(); got != want {
		t.Errorf("unwrap gave %s, want %s", got, want)
	}
}

// oci-archive in, oci-archive out; the archive is replaced atomically.
func TestWrapOCIArchive(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := sampleimage.Write(filepath.Join(dir, "layout"), "app"); err != nil {
		t.Fatal(err)
	}
	// Pack the layout through the store itself: layout -> archive.
	src := getImage(t, "oci:"+filepath.Join(dir, "layout")+":app")
	archive := filepath.Join(dir, "app.tar")
	if err := store(t, "oci-archive:"+archive+":app").Put(ctx, (&artifactImage{src}).artifact()); err != nil {
		t.Fatal(err)
	}
	if _, err := Wrap(ctx, store(t, "oci-archive:"+archive+":app"), store(t, "oci-archive:"+archive+":app-jennifer"), javaOptions(t, sampleAgent(t))); err != nil {
		t.Fatal(err)
	}
	out := getImage(t, "oci-archive:"+archive+":app-jennifer")
	cf, _ := out.ConfigFile()
	if _, ok := envOf(cf, "JAVA_TOOL_OPTIONS"); !ok {
		t.Error("wrapped image in the archive has no JAVA_TOOL_OPTIONS")
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".app.tar.tmp-*"))
	if len(leftovers) != 0 {
		t.Errorf("temp files left: %v", leftovers)
	}
	if _, err := os.Stat(archive); err != nil {
		t.Fatal(err)
	}
}
