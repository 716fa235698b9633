package transport

import (
	"errors"
	"strings"
	"testing"

	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

func openContainerd(t testing.TB, addr, ns, ref string) Store {
	t.Helper()
	st, err := Open(mustParse(t, ref), Options{Containerd: ContainerdOptions{Address: addr, Namespace: ns}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestContainerdRoundTrip(t *testing.T) {
	addr := testenv.Containerd(t)
	const ns = "k8s.io"
	base := randomImage(t)
	testenv.ImportContainerd(t, addr, ns, "docker.io/jbuildtest/app:1", base)

	// Short names are Docker's: jbuildtest/app:1 is docker.io/jbuildtest/app:1.
	src := openContainerd(t, addr, ns, "containerd:jbuildtest/app:1")
	a, err := src.Get(bg)
	if err != nil {
		t.Fatal(err)
	}
	// containerd keeps the manifest itself: the digest is exact.
	if got, want := artifactDigest(t, a), digestOf(t, base); got != want {
		t.Errorf("digest %s, want %s", got, want)
	}
	// Readable after Close (the wrap engine closes a store it opened to
	// find a base before using the base).
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	layers, err := a.Image.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers %v, %v", layers, err)
	}
	if _, err := layers[0].Uncompressed(); err != nil {
		t.Errorf("reading a layer: %v", err)
	}

	// Put a mutated image, keeping the base by digest.
	out := withEnv(t, a.Image, "JBUILD_TEST=1")
	dst := openContainerd(t, addr, ns, "containerd:jbuildtest/app:1-jennifer")
	if err := dst.Put(bg, &Artifact{Image: out}, a); err != nil {
		t.Fatal(err)
	}
	cli := testenv.ContainerdClient(t, addr, ns)
	ctx := namespaces.WithNamespace(bg, ns)
	img, err := cli.GetImage(ctx, "docker.io/jbuildtest/app:1-jennifer")
	if err != nil {
		t.Fatal(err)
	}
	if img.Target().Digest.String() != digestOf(t, out).String() {
		t.Errorf("target %s, want %s", img.Target().Digest, digestOf(t, out))
	}
	if ok, err := img.IsUnpacked(ctx, "overlayfs"); err != nil || !ok {
		t.Errorf("IsUnpacked(overlayfs) = %v, %v", ok, err)
	}
	back, err := dst.Get(bg)
	if err != nil {
		t.Fatal(err)
	}
	if artifactDigest(t, back) != digestOf(t, out) {
		t.Errorf("read back %s, want %s", artifactDigest(t, back), digestOf(t, out))
	}

	// The kept base outlives its name: delete app:1 with a synchronous
	// garbage collection, and it is still there by digest, referenced from
	// the written manifest's labels.
	if err := cli.ImageService().Delete(ctx, "docker.io/jbuildtest/app:1", images.SynchronousDelete()); err != nil {
		t.Fatal(err)
	}
	kept, err := dst.GetDigest(bg, digestOf(t, base))
	if err != nil {
		t.Fatalf("GetDigest(base) after the base name was deleted: %v", err)
	}
	if _, err := kept.Image.RawConfigFile(); err != nil {
		t.Errorf("kept base config: %v", err)
	}
	if _, err := dst.GetDigest(bg, digestOf(t, randomImage(t))); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetDigest(unknown) = %v", err)
	}

	// The name moves on a second Put.
	out2 := withEnv(t, a.Image, "JBUILD_TEST=2")
	if err := dst.Put(bg, &Artifact{Image: out2}); err != nil {
		t.Fatal(err)
	}
	if img, err := cli.GetImage(ctx, "docker.io/jbuildtest/app:1-jennifer"); err != nil || img.Target().Digest.String() != digestOf(t, out2).String() {
		t.Errorf("after a second Put: %v, %v", img, err)
	}
}

func TestContainerdIndex(t *testing.T) {
	addr := testenv.Containerd(t)
	idx := randomIndex(t)
	st := openContainerd(t, addr, "k8s.io", "containerd:jbuildtest/multi:1")
	if err := st.Put(bg, &Artifact{Index: idx}); err != nil {
		t.Fatal(err)
	}
	a, err := st.Get(bg)
	if err != nil {
		t.Fatal(err)
	}
	if a.Index == nil || artifactDigest(t, a) != digestOf(t, idx) {
		t.Fatalf("Get = %+v, want the index %s", a, digestOf(t, idx))
	}
	im, err := a.Index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range im.Manifests {
		img, err := a.Index.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := img.ConfigFile(); err != nil {
			t.Errorf("%s: %v", m.Platform, err)
		}
	}
	ctx := namespaces.WithNamespace(bg, "k8s.io")
	cli := testenv.ContainerdClient(t, addr, "k8s.io")
	img, err := cli.GetImage(ctx, "docker.io/jbuildtest/multi:1")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := img.IsUnpacked(ctx, "overlayfs"); err != nil || !ok {
		t.Errorf("IsUnpacked(overlayfs) = %v, %v", ok, err)
	}
}

func TestContainerdErrors(t *testing.T) {
	addr := testenv.Containerd(t)
	testenv.ImportContainerd(t, addr, "jbuild-other", "docker.io/jbuildtest/elsewhere:1", randomImage(t))

	for _, tc := range []struct {
		name, ns, ref string
		want          []string
	}{
		{"missing image", "k8s.io", "containerd:jbuildtest/nothing:1", []string{"no image docker.io/jbuildtest/nothing:1 in namespace k8s.io", "ctr -n k8s.io images ls"}},
		{"wrong namespace", "k8s", "containerd:jbuildtest/app:1", []string{`has no namespace "k8s"`, "k8s.io", "jbuild-other", "--containerd-namespace"}},
		{"other namespace", "k8s.io", "containerd:jbuildtest/elsewhere:1", []string{"namespace jbuild-other has it", "--containerd-namespace jbuild-other"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := openContainerd(t, addr, tc.ns, tc.ref).Get(bg)
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("Get = %v, want ErrNotFound", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}

	dead := t.TempDir() + "/containerd.sock"
	_, err := openContainerd(t, dead, "", "containerd:app:1").Get(bg)
	if err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "cannot connect to containerd at "+dead+": is containerd running?") {
		t.Errorf("containerd down: %v", err)
	}
}
