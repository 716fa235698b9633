package transport

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

func TestDockerArchiveRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.tar")
	// Docker media types: an archive has none, so an OCI image comes back
	// with Docker's and another digest.
	img1, err := testenv.RandomImage(testenv.Spec{Layers: 1, LayerSize: 512})
	if err != nil {
		t.Fatal(err)
	}
	img2 := randomImage(t)

	st1 := mustOpen(t, "docker-archive:"+path+":myapp:1")
	if _, err := st1.Get(bg); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing archive: %v", err)
	}
	if err := st1.Put(bg, &Artifact{Image: img1}); err != nil {
		t.Fatal(err)
	}
	// A second tag keeps the first image in the archive.
	st2 := mustOpen(t, "docker-archive:"+path+":myapp:1-jennifer")
	if err := st2.Put(bg, &Artifact{Image: img2}); err != nil {
		t.Fatal(err)
	}
	for st, want := range map[Store]string{st1: configName(t, img1).String(), st2: configName(t, img2).String()} {
		a, err := st.Get(bg)
		if err != nil {
			t.Fatal(err)
		}
		if got := configName(t, a.Image).String(); got != want {
			t.Errorf("%s: config %s, want %s", st.Ref(), got, want)
		}
		// A docker-archive stores layers as they were given: a Docker
		// schema 2 image's manifest (and digest) survive the round trip.
		if st == st1 && artifactDigest(t, a) != digestOf(t, img1) {
			t.Errorf("%s: digest %s, want %s", st.Ref(), artifactDigest(t, a), digestOf(t, img1))
		}
	}
	if _, err := st2.GetDigest(bg, digestOf(t, img1)); err != nil {
		t.Errorf("GetDigest(first image): %v", err)
	}
	if _, err := st2.GetDigest(bg, digestOf(t, randomImage(t))); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetDigest(unknown) = %v", err)
	}
	// Without a name, an archive of two images is ambiguous.
	if _, err := mustOpen(t, "docker-archive:"+path).Get(bg); err == nil || !strings.Contains(err.Error(), "holds 2 images") || !strings.Contains(err.Error(), "myapp:1-jennifer") {
		t.Errorf("Get without a name: %v", err)
	}
	if _, err := mustOpen(t, "docker-archive:"+path+":myapp:2").Get(bg); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "tags: myapp:1, myapp:1-jennifer") {
		t.Errorf("Get of a missing tag: %v", err)
	}
	if err := mustOpen(t, "docker-archive:"+path).Put(bg, &Artifact{Image: img1}); err == nil || !strings.Contains(err.Error(), "needs a name") {
		t.Errorf("Put without a name: %v", err)
	}
	// A failed write leaves the archive as it was, and no temp file.
	before, _ := os.ReadFile(path)
	if err := st2.Put(bg, &Artifact{Image: imageWithBrokenLayer(t)}); err == nil {
		t.Fatal("Put of a broken image succeeded")
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Error("a failed Put changed the archive")
	}
	if tmp := tempFiles(t, dir); len(tmp) > 0 {
		t.Errorf("temp files left: %v", tmp)
	}
}

// What `docker save` writes is read, and what the store writes is what
// `docker load` takes.
func TestDockerArchiveWithDocker(t *testing.T) {
	host := testenv.Dockerd(t)
	base := randomImage(t)
	testenv.LoadImage(t, host, "jbuild-test/archive:1", base)
	cli := testenv.DockerClient(t, host)
	rc, err := cli.ImageSave(bg, []string{"jbuild-test/archive:1"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "saved.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()
	f.Close()

	for _, ref := range []string{"docker-archive:" + path, "docker-archive:" + path + ":jbuild-test/archive:1", "docker-archive:" + path + ":docker.io/jbuild-test/archive:1"} {
		a, err := mustOpen(t, ref).Get(bg)
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if configName(t, a.Image) != configName(t, base) {
			t.Errorf("%s: config %s, want %s", ref, configName(t, a.Image), configName(t, base))
		}
	}

	// Write a mutated image next to it and load the archive.
	a, err := mustOpen(t, "docker-archive:"+path+":jbuild-test/archive:1").Get(bg)
	if err != nil {
		t.Fatal(err)
	}
	out := withEnv(t, a.Image, "JBUILD_TEST=archive")
	if err := mustOpen(t, "docker-archive:"+path+":jbuild-test/archive:1-jennifer").Put(bg, &Artifact{Image: out}); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	resp, err := cli.ImageLoad(bg, in)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for tag, want := range map[string]string{"jbuild-test/archive:1-jennifer": configName(t, out).String(), "jbuild-test/archive:1": configName(t, base).String()} {
		info, err := cli.ImageInspect(bg, tag)
		if err != nil {
			t.Fatalf("%s after docker load (%s): %v", tag, msg, err)
		}
		if info.ID != want {
			t.Errorf("%s: ID %s, want %s", tag, info.ID, want)
		}
	}
}

// An index of one platform (wrap --platform) is written as that image; a
// multi-platform one is refused with what to do.
func TestDockerArchiveIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.tar")
	st := mustOpen(t, "docker-archive:"+path+":app:1")
	if err := st.Put(bg, &Artifact{Index: randomIndex(t)}); err == nil || !strings.Contains(err.Error(), "--platform") {
		t.Errorf("Put of a multi-platform index: %v", err)
	}
	one, err := testenv.RandomIndex(testenv.Spec{Layers: 1, LayerSize: 100}, testenv.DefaultPlatforms[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(bg, &Artifact{Index: one}); err != nil {
		t.Fatal(err)
	}
	im, _ := one.IndexManifest()
	want, _ := one.Image(im.Manifests[0].Digest)
	a, err := st.Get(bg)
	if err != nil {
		t.Fatal(err)
	}
	if configName(t, a.Image) != configName(t, want) {
		t.Errorf("config %s, want %s", configName(t, a.Image), configName(t, want))
	}
}
