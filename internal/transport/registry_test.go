package transport

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// repoFor is a repository of the shared test registry that no other test
// (nor an earlier run with -count) has used.
func repoFor(t testing.TB, reg string) string {
	t.Helper()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s/transport/%s-%x", reg, strings.ToLower(t.Name()), b)
}

// exists reports whether ref names a manifest in the test registry,
// asking the registry directly (not through the store under test).
func exists(t testing.TB, ref string) bool {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	_, err = remote.Head(r)
	return err == nil
}

func TestRegistryGet(t *testing.T) {
	reg := testenv.Registry(t)
	repo := repoFor(t, reg)
	img := randomImage(t)
	imgDigest := testenv.PushImage(t, repo+":img", img)
	idxDigest := testenv.PushIndex(t, repo+":idx", 1, 256, nil)

	a, err := mustOpen(t, repo+":img").Get(bg)
	if err != nil {
		t.Fatal(err)
	}
	if a.Image == nil || a.Index != nil || artifactDigest(t, a) != imgDigest {
		t.Fatalf("Get image = %+v", a)
	}
	if err := validate.Image(a.Image); err != nil {
		t.Errorf("image does not validate: %v", err)
	}

	a, err = mustOpen(t, repo+":idx").Get(bg)
	if err != nil {
		t.Fatal(err)
	}
	if a.Index == nil || a.Image != nil || artifactDigest(t, a) != idxDigest {
		t.Fatalf("Get index = %+v", a)
	}
	if im, _ := a.Index.IndexManifest(); len(im.Manifests) != 2 {
		t.Errorf("index has %d manifests", len(im.Manifests))
	}

	// By digest reference.
	a, err = mustOpen(t, repo+"@"+imgDigest.String()).Get(bg)
	if err != nil || artifactDigest(t, a) != imgDigest {
		t.Errorf("Get by digest: %v", err)
	}

	for _, ref := range []string{
		repo + ":missing", // repository exists, tag does not
		repo + "-none:1",  // repository does not exist
		repo + "@" + digestOf(t, randomImage(t)).String(),
	} {
		_, err := mustOpen(t, ref).Get(bg)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("Get %s: %v, want ErrNotFound", ref, err)
		}
	}
}

func TestRegistryGetDigest(t *testing.T) {
	reg := testenv.Registry(t)
	repo := repoFor(t, reg)
	base := randomImage(t)
	baseDigest := testenv.PushImage(t, repo+":base", base)
	testenv.PushImage(t, repo+":app", randomImage(t))

	st := mustOpen(t, repo+":app")
	a, err := st.GetDigest(bg, baseDigest)
	if err != nil {
		t.Fatal(err)
	}
	if artifactDigest(t, a) != baseDigest {
		t.Errorf("GetDigest gave %s", artifactDigest(t, a))
	}
	_, err = st.GetDigest(bg, digestOf(t, randomImage(t)))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("GetDigest of an unknown digest: %v, want ErrNotFound", err)
	}
	// Another repository of the same registry does not see it.
	testenv.PushImage(t, repo+"-other:1", randomImage(t))
	if _, err := mustOpen(t, repo+"-other:1").GetDigest(bg, baseDigest); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetDigest in another repository: %v, want ErrNotFound", err)
	}
}

func TestRegistryPutWithKeep(t *testing.T) {
	reg := testenv.Registry(t)
	repo := repoFor(t, reg)
	base, out := randomImage(t), randomImage(t)
	baseIdx := randomIndex(t)

	st := mustOpen(t, repo+":1.0-jennifer")
	if err := st.Put(bg, &Artifact{Image: out}, &Artifact{Image: base}, &Artifact{Index: baseIdx}); err != nil {
		t.Fatal(err)
	}
	if !exists(t, repo+"@"+digestOf(t, base).String()) {
		t.Error("kept image is not in the repository by digest")
	}
	if !exists(t, repo+"@"+digestOf(t, baseIdx).String()) {
		t.Error("kept index is not in the repository by digest")
	}
	// Kept artifacts are never tagged.
	r, _ := name.NewRepository(repo, name.Insecure)
	tags, err := remote.List(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != 1 || tags[0] != "1.0-jennifer" {
		t.Errorf("tags = %v, want only 1.0-jennifer", tags)
	}
	a, err := st.Get(bg)
	if err != nil || artifactDigest(t, a) != digestOf(t, out) {
		t.Fatalf("Get after Put: %v", err)
	}
	k, err := st.GetDigest(bg, digestOf(t, base))
	if err != nil || artifactDigest(t, k) != digestOf(t, base) {
		t.Errorf("GetDigest(kept) = %v", err)
	}
	if err := validate.Image(testenv.Image(t, repo+":1.0-jennifer")); err != nil {
		t.Errorf("pushed image does not validate: %v", err)
	}

	// An index as the tagged artifact.
	idx := randomIndex(t)
	if err := mustOpen(t, repo+":multi").Put(bg, &Artifact{Index: idx}); err != nil {
		t.Fatal(err)
	}
	if got, _ := testenv.Index(t, repo+":multi").Digest(); got != digestOf(t, idx) {
		t.Errorf("index pushed as %s, want %s", got, digestOf(t, idx))
	}
}

func TestRegistryPutProgress(t *testing.T) {
	reg := testenv.Registry(t)
	ch := make(chan v1.Update, 100)
	var last v1.Update
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for u := range ch {
			last = u
		}
	}()
	ref := mustParse(t, repoFor(t, reg)+":1")
	st, err := Open(ref, Options{Registry: RegistryOptions{Progress: ch, UserAgent: "jbuild-test"}})
	if err != nil {
		t.Fatal(err)
	}
	out := randomImage(t)
	if err := st.Put(bg, &Artifact{Image: out}, &Artifact{Image: randomImage(t)}); err != nil {
		t.Fatal(err)
	}
	wg.Wait() // ggcr closes the channel when the write ends
	layers, _ := out.Layers()
	size, _ := layers[0].Size()
	if last.Error != nil || last.Total < size || last.Complete != last.Total {
		t.Errorf("last progress update %+v, want complete == total >= %d", last, size)
	}
}

// The tag is written only after every blob: while a layer is uploading
// the tag does not exist, and when a layer fails it never appears.
func TestRegistryPutTagLast(t *testing.T) {
	reg := testenv.Registry(t)
	repo := repoFor(t, reg)
	testenv.PushImage(t, repo+":other", randomImage(t)) // the repository exists

	var mu sync.Mutex
	var probed, tagSeen bool
	img := imageWithProbe(t, func() {
		mu.Lock()
		defer mu.Unlock()
		probed = true
		tagSeen = tagSeen || exists(t, repo+":new")
	})
	if err := mustOpen(t, repo+":new").Put(bg, &Artifact{Image: img}); err != nil {
		t.Fatal(err)
	}
	if !probed {
		t.Fatal("layer was never read")
	}
	if tagSeen {
		t.Error("tag existed while the layer was being uploaded")
	}
	if !exists(t, repo+":new") {
		t.Error("tag missing after Put")
	}

	err := mustOpen(t, repo+":broken").Put(bg, &Artifact{Image: imageWithBrokenLayer(t)})
	if err == nil {
		t.Fatal("Put of an image whose layer fails succeeded")
	}
	if !strings.Contains(err.Error(), repo+":broken") {
		t.Errorf("error %q does not name the target", err)
	}
	if exists(t, repo+":broken") {
		t.Error("tag written although a layer failed")
	}
	if _, err := mustOpen(t, repo+":broken").Get(bg); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of the failed tag: %v, want ErrNotFound", err)
	}

	// A broken kept artifact stops the write before the tag as well.
	err = mustOpen(t, repo+":broken-keep").Put(bg, &Artifact{Image: randomImage(t)}, &Artifact{Image: imageWithBrokenLayer(t)})
	if err == nil {
		t.Fatal("Put with a broken keep succeeded")
	}
	if exists(t, repo+":broken-keep") {
		t.Error("tag written although a kept image failed")
	}
}

func TestRegistryUnreachable(t *testing.T) {
	// A loopback port nothing listens on (the registry's port, once
	// stopped, is not guaranteed free; port 1 is privileged and unused).
	_, err := mustOpen(t, "127.0.0.1:1/x:1").Get(bg)
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Get from an unreachable registry: %v (must not be ErrNotFound)", err)
	}
}
