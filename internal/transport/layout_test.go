package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// readIndexJSON reads a layout's index.json as written.
func readIndexJSON(t testing.TB, dir string) v1.IndexManifest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var im v1.IndexManifest
	if err := json.Unmarshal(raw, &im); err != nil {
		t.Fatal(err)
	}
	return im
}

func tagsOf(im v1.IndexManifest) map[string]v1.Hash {
	out := map[string]v1.Hash{}
	for _, d := range im.Manifests {
		if tag := d.Annotations[AnnotationRefName]; tag != "" {
			out[tag] = d.Digest
		}
	}
	return out
}

func putLayout(t testing.TB, ref string, a *Artifact, keep ...*Artifact) {
	t.Helper()
	if err := mustOpen(t, ref).Put(bg, a, keep...); err != nil {
		t.Fatalf("Put %s: %v", ref, err)
	}
}

func TestLayoutPutGetByTag(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout") // does not exist yet
	img := randomImage(t)
	putLayout(t, "oci:"+dir+":1.0", &Artifact{Image: img})

	// A valid OCI layout that other tools read.
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		t.Fatal(err)
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	ii, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(ii); err != nil {
		t.Errorf("layout does not validate: %v", err)
	}
	im := readIndexJSON(t, dir)
	if im.MediaType == "" || len(im.Manifests) != 1 || im.Manifests[0].Annotations[AnnotationRefName] != "1.0" {
		t.Errorf("index.json = %+v", im)
	}

	a, err := mustOpen(t, "oci:"+dir+":1.0").Get(bg)
	if err != nil {
		t.Fatal(err)
	}
	if a.Image == nil || artifactDigest(t, a) != digestOf(t, img) {
		t.Fatalf("Get returned %+v, want image %s", a, digestOf(t, img))
	}
	if err := validate.Image(a.Image); err != nil {
		t.Errorf("image read back does not validate: %v", err)
	}
	if mt, _ := a.MediaType(); !mt.IsImage() {
		t.Errorf("media type %s", mt)
	}
	if tf := tempFiles(t, dir); len(tf) != 0 {
		t.Errorf("temp files left: %v", tf)
	}
}

func TestLayoutGetWithoutTag(t *testing.T) {
	dir := t.TempDir()
	one := randomImage(t)
	putLayout(t, "oci:"+dir+":only", &Artifact{Image: one})

	// One image: the tag may be left out.
	a, err := mustOpen(t, "oci:"+dir).Get(bg)
	if err != nil {
		t.Fatal(err)
	}
	if artifactDigest(t, a) != digestOf(t, one) {
		t.Errorf("Get without tag gave %s", artifactDigest(t, a))
	}

	// A base kept by digest does not count as a second image.
	putLayout(t, "oci:"+dir+":only", &Artifact{Image: one}, &Artifact{Image: randomImage(t)})
	if _, err := mustOpen(t, "oci:"+dir).Get(bg); err != nil {
		t.Errorf("one tagged image plus a kept base: %v", err)
	}

	// Several images: the error names every tag and says how to pick.
	putLayout(t, "oci:"+dir+":second", &Artifact{Image: randomImage(t)})
	_, err = mustOpen(t, "oci:"+dir).Get(bg)
	if err == nil {
		t.Fatal("Get without tag on a layout with two images: no error")
	}
	for _, w := range []string{"holds 2 images", "only", "second", "oci:" + dir + ":TAG"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestLayoutNotFound(t *testing.T) {
	dir := t.TempDir()
	// No layout at all.
	for _, ref := range []string{"oci:" + dir + ":x", "oci:" + filepath.Join(dir, "missing") + ":x"} {
		if _, err := mustOpen(t, ref).Get(bg); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get %s: %v, want ErrNotFound", ref, err)
		}
		if _, err := mustOpen(t, ref).GetDigest(bg, digestOf(t, randomImage(t))); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetDigest %s: %v, want ErrNotFound", ref, err)
		}
	}

	putLayout(t, "oci:"+dir+":b", &Artifact{Image: randomImage(t)})
	putLayout(t, "oci:"+dir+":a", &Artifact{Image: randomImage(t)})
	_, err := mustOpen(t, "oci:"+dir+":nope").Get(bg)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing tag: %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), `no tag "nope"`) || !strings.Contains(err.Error(), "tags: a, b") {
		t.Errorf("missing-tag error %q should name the tag and list the existing ones", err)
	}
	missing := digestOf(t, randomImage(t))
	_, err = mustOpen(t, "oci:"+dir+":a").GetDigest(bg, missing)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), missing.String()) {
		t.Errorf("GetDigest of a missing manifest: %v", err)
	}
}

func TestLayoutPutKeepsOtherTagsAndMovesTag(t *testing.T) {
	dir := t.TempDir()
	imgA, imgB, imgA2 := randomImage(t), randomImage(t), randomImage(t)
	putLayout(t, "oci:"+dir+":a", &Artifact{Image: imgA})
	putLayout(t, "oci:"+dir+":b", &Artifact{Image: imgB})
	putLayout(t, "oci:"+dir+":a", &Artifact{Image: imgA2}) // the tag moves

	im := readIndexJSON(t, dir)
	tags := tagsOf(im)
	if len(im.Manifests) != 2 || tags["a"] != digestOf(t, imgA2) || tags["b"] != digestOf(t, imgB) {
		t.Errorf("index.json after moving tag a: %+v", im.Manifests)
	}
	for tag, want := range map[string]v1.Image{"a": imgA2, "b": imgB} {
		a, err := mustOpen(t, "oci:"+dir+":"+tag).Get(bg)
		if err != nil {
			t.Fatal(err)
		}
		if artifactDigest(t, a) != digestOf(t, want) {
			t.Errorf("tag %s gives %s", tag, artifactDigest(t, a))
		}
	}
	// Blobs of the image the tag moved away from stay (they may be shared),
	// and the layout is still valid.
	if _, err := os.Stat(filepath.Join(dir, "blobs", "sha256", digestOf(t, imgA).Hex)); err != nil {
		t.Errorf("old manifest blob removed: %v", err)
	}
	if tf := tempFiles(t, dir); len(tf) != 0 {
		t.Errorf("temp files left: %v", tf)
	}
}

func TestLayoutPutNeedsTag(t *testing.T) {
	dir := t.TempDir()
	err := mustOpen(t, "oci:"+dir).Put(bg, &Artifact{Image: randomImage(t)})
	if err == nil || !strings.Contains(err.Error(), "needs a tag") {
		t.Errorf("Put without tag: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Put without tag wrote %d entries", len(entries))
	}
}

func TestLayoutKeep(t *testing.T) {
	dir := t.TempDir()
	base, out := randomImage(t), randomImage(t)
	putLayout(t, "oci:"+dir+":1.0-jennifer", &Artifact{Image: out}, &Artifact{Image: base})

	im := readIndexJSON(t, dir)
	if len(im.Manifests) != 2 {
		t.Fatalf("index.json has %d entries, want 2", len(im.Manifests))
	}
	// Kept entries: no tag, marked as kept; the tagged entry is last.
	kept, tagged := im.Manifests[0], im.Manifests[1]
	if kept.Digest != digestOf(t, base) || kept.Annotations[AnnotationRefName] != "" || kept.Annotations[annotationKept] == "" {
		t.Errorf("kept entry %+v", kept)
	}
	if tagged.Digest != digestOf(t, out) || tagged.Annotations[AnnotationRefName] != "1.0-jennifer" {
		t.Errorf("tagged entry %+v", tagged)
	}

	st := mustOpen(t, "oci:"+dir+":1.0-jennifer")
	a, err := st.GetDigest(bg, digestOf(t, base))
	if err != nil {
		t.Fatal(err)
	}
	if a.Image == nil || artifactDigest(t, a) != digestOf(t, base) {
		t.Errorf("GetDigest(base) = %+v", a)
	}
	if err := validate.Image(a.Image); err != nil {
		t.Errorf("kept base does not validate: %v", err)
	}
	a, err = st.GetDigest(bg, digestOf(t, out))
	if err != nil || artifactDigest(t, a) != digestOf(t, out) {
		t.Errorf("GetDigest(tagged) = %v, %v", a, err)
	}

	// Keeping the same base again does not duplicate it.
	putLayout(t, "oci:"+dir+":1.0-jennifer", &Artifact{Image: out}, &Artifact{Image: base})
	if n := len(readIndexJSON(t, dir).Manifests); n != 2 {
		t.Errorf("second Put with the same keep: %d entries, want 2", n)
	}
}

// The base is kept by digest so unwrap finds it "even after the source tag
// moves on": that must hold when the base was itself a tag of the same
// layout (oci:DIR:1.0 wrapped to oci:DIR:1.0-jennifer).
func TestLayoutKeepSurvivesSourceTagMove(t *testing.T) {
	dir := t.TempDir()
	base, out, rebuilt := randomImage(t), randomImage(t), randomImage(t)
	putLayout(t, "oci:"+dir+":1.0", &Artifact{Image: base})
	putLayout(t, "oci:"+dir+":1.0-jennifer", &Artifact{Image: out}, &Artifact{Image: base})
	putLayout(t, "oci:"+dir+":1.0", &Artifact{Image: rebuilt}) // CI rebuilds 1.0

	a, err := mustOpen(t, "oci:"+dir+":1.0-jennifer").GetDigest(bg, digestOf(t, base))
	if err != nil {
		t.Fatalf("base lost after its tag moved: %v", err)
	}
	if artifactDigest(t, a) != digestOf(t, base) {
		t.Errorf("GetDigest gave %s", artifactDigest(t, a))
	}
	// And the layout still has exactly two tags.
	if tags := tagsOf(readIndexJSON(t, dir)); len(tags) != 2 || tags["1.0"] != digestOf(t, rebuilt) {
		t.Errorf("tags = %v", tags)
	}
}

func TestLayoutPutIndex(t *testing.T) {
	dir := t.TempDir()
	idx := randomIndex(t)
	base := randomIndex(t)
	putLayout(t, "oci:"+dir+":multi", &Artifact{Index: idx}, &Artifact{Index: base})

	a, err := mustOpen(t, "oci:"+dir+":multi").Get(bg)
	if err != nil {
		t.Fatal(err)
	}
	if a.Index == nil || a.Image != nil || artifactDigest(t, a) != digestOf(t, idx) {
		t.Fatalf("Get of an index gave %+v", a)
	}
	if err := validate.Index(a.Index); err != nil {
		t.Errorf("index read back does not validate: %v", err)
	}
	m, _ := a.Index.IndexManifest()
	if len(m.Manifests) != 2 {
		t.Errorf("index has %d manifests", len(m.Manifests))
	}
	if mt, _ := a.MediaType(); !mt.IsIndex() {
		t.Errorf("media type %s", mt)
	}
	k, err := mustOpen(t, "oci:"+dir+":multi").GetDigest(bg, digestOf(t, base))
	if err != nil || k.Index == nil || artifactDigest(t, k) != digestOf(t, base) {
		t.Errorf("GetDigest(kept index) = %+v, %v", k, err)
	}
	// The tagged entry carries no platform (it is an index).
	for _, d := range readIndexJSON(t, dir).Manifests {
		if d.Platform != nil {
			t.Errorf("index.json entry %s has platform %v", d.Digest, d.Platform)
		}
	}
}

// Blobs first, index.json last: while the layer is being written the new
// tag must not be visible yet.
func TestLayoutPutWritesTagLast(t *testing.T) {
	dir := t.TempDir()
	putLayout(t, "oci:"+dir+":other", &Artifact{Image: randomImage(t)})
	var sawTag, called bool
	img := imageWithProbe(t, func() {
		called = true
		sawTag = tagsOf(readIndexJSON(t, dir))["new"] != v1.Hash{}
	})
	putLayout(t, "oci:"+dir+":new", &Artifact{Image: img})
	if !called {
		t.Fatal("layer was never read")
	}
	if sawTag {
		t.Error("tag was in index.json before the layer blob was written")
	}
	if tagsOf(readIndexJSON(t, dir))["new"] != digestOf(t, img) {
		t.Error("tag missing after Put")
	}
}

func TestLayoutPutFailureLeavesIndexUntouched(t *testing.T) {
	dir := t.TempDir()
	putLayout(t, "oci:"+dir+":keep", &Artifact{Image: randomImage(t)})
	before, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}

	// A layer that fails mid-stream.
	err = mustOpen(t, "oci:"+dir+":new").Put(bg, &Artifact{Image: imageWithBrokenLayer(t)})
	if !errors.Is(err, errBrokenLayer) {
		t.Errorf("Put of a broken image: %v, want the layer's error", err)
	}
	// A broken kept artifact fails the write before the tag too.
	err = mustOpen(t, "oci:"+dir+":new").Put(bg, &Artifact{Image: randomImage(t)}, &Artifact{Image: imageWithBrokenLayer(t)})
	if !errors.Is(err, errBrokenLayer) {
		t.Errorf("Put with a broken keep: %v", err)
	}
	// A cancelled context.
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := mustOpen(t, "oci:"+dir+":new").Put(ctx, &Artifact{Image: randomImage(t)}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context: %v", err)
	}

	after, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Errorf("index.json changed by failed Puts:\n%s\n---\n%s", before, after)
	}
	if _, err := mustOpen(t, "oci:"+dir+":new").Get(bg); !errors.Is(err, ErrNotFound) {
		t.Errorf("tag of a failed Put: %v, want ErrNotFound", err)
	}
	if tf := tempFiles(t, dir); len(tf) != 0 {
		t.Errorf("temp files left: %v", tf)
	}
}

// A layout written by another tool (no media type on index.json, extra
// annotations) is updated in place without losing its entries.
func TestLayoutPutIntoForeignLayout(t *testing.T) {
	dir := t.TempDir()
	img := randomImage(t)
	lp, err := layout.Write(dir, emptyIndexForTest())
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil { // untagged, as some tools write
		t.Fatal(err)
	}
	// Untagged single image: readable without a tag.
	a, err := mustOpen(t, "oci:"+dir).Get(bg)
	if err != nil || artifactDigest(t, a) != digestOf(t, img) {
		t.Fatalf("Get untagged foreign image: %v", err)
	}
	putLayout(t, "oci:"+dir+":mine", &Artifact{Image: randomImage(t)})
	im := readIndexJSON(t, dir)
	if len(im.Manifests) != 2 || im.Manifests[0].Digest != digestOf(t, img) {
		t.Errorf("foreign entry lost: %+v", im.Manifests)
	}
	if im.MediaType == "" {
		t.Error("index.json written without a media type")
	}
}
