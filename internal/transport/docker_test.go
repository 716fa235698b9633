package transport

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

func openDocker(t testing.TB, host, ref string) Store {
	t.Helper()
	st, err := Open(mustParse(t, ref), Options{Docker: DockerOptions{Host: host}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// withEnv is img with another config (ENV added) and one more layer, as a
// wrap would make it.
func withEnv(t testing.TB, img v1.Image, env string) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.Env = append(cf.Config.Env, env)
	out, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	l, err := testenv.RandomLayer(700, true)
	if err != nil {
		t.Fatal(err)
	}
	out, err = mutate.AppendLayers(out, l)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func configName(t testing.TB, img v1.Image) v1.Hash {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func diffIDs(t testing.TB, img v1.Image) []v1.Hash {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return cf.RootFS.DiffIDs
}

func TestDockerDaemonRoundTrip(t *testing.T) {
	host := testenv.Dockerd(t)
	base := randomImage(t)
	testenv.LoadImage(t, host, "jbuild-test/app:1", base)

	src := openDocker(t, host, "docker-daemon:jbuild-test/app:1")
	a, err := src.Get(bg)
	if err != nil {
		t.Fatal(err)
	}
	if a.Image == nil || a.Origin.String() != "docker-daemon:jbuild-test/app:1" {
		t.Fatalf("Get = %+v", a)
	}
	// The daemon keeps the config byte for byte (image ID = config digest)
	// and the layer contents; the manifest is jbuild's own.
	if got, want := configName(t, a.Image), configName(t, base); got != want {
		t.Errorf("config digest %s, want %s", got, want)
	}
	if got, want := diffIDs(t, a.Image), diffIDs(t, base); len(got) != 1 || got[0] != want[0] {
		t.Errorf("diff IDs %v, want %v", got, want)
	}
	// Reading twice gives the same manifest digest (what wrap records as
	// the base digest).
	d1 := artifactDigest(t, a)
	again, err := openDocker(t, host, "docker-daemon:jbuild-test/app:1").Get(bg)
	if err != nil {
		t.Fatal(err)
	}
	if d2 := artifactDigest(t, again); d1 != d2 {
		t.Errorf("digest of the same image read twice: %s then %s", d1, d2)
	}
	// GetDigest finds the named image by that digest only.
	if _, err := src.GetDigest(bg, d1); err != nil {
		t.Errorf("GetDigest(own digest): %v", err)
	}
	if _, err := src.GetDigest(bg, digestOf(t, base)); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "keeps no images by manifest digest") {
		t.Errorf("GetDigest(other) error = %v", err)
	}

	// Put a mutated image as another tag; the daemon shows it.
	out := withEnv(t, a.Image, "JBUILD_TEST=1")
	dst := openDocker(t, host, "docker-daemon:jbuild-test/app:1-jennifer")
	if _, err := dst.Get(bg); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "docker images") {
		t.Fatalf("Get of a missing tag: %v", err)
	}
	if err := dst.Put(bg, &Artifact{Image: out}, a); err != nil {
		t.Fatal(err)
	}
	info, err := testenv.DockerClient(t, host).ImageInspect(bg, "jbuild-test/app:1-jennifer")
	if err != nil {
		t.Fatal(err)
	}
	if info.ID != configName(t, out).String() {
		t.Errorf("image ID %s, want the config digest %s", info.ID, configName(t, out))
	}
	if !strings.Contains(strings.Join(info.Config.Env, " "), "JBUILD_TEST=1") || len(info.RootFS.Layers) != 2 {
		t.Errorf("loaded image: env %v, layers %v", info.Config.Env, info.RootFS.Layers)
	}
	back, err := dst.Get(bg)
	if err != nil {
		t.Fatal(err)
	}
	if configName(t, back.Image) != configName(t, out) {
		t.Errorf("read back config %s, want %s", configName(t, back.Image), configName(t, out))
	}
	// The source tag did not move.
	if info, err := testenv.DockerClient(t, host).ImageInspect(bg, "jbuild-test/app:1"); err != nil || info.ID != configName(t, base).String() {
		t.Errorf("source tag: %s, %v", info.ID, err)
	}

	// A failed write leaves the tag where it was.
	broken := imageWithBrokenLayer(t)
	if err := dst.Put(bg, &Artifact{Image: broken}); err == nil || !strings.Contains(err.Error(), "loading jbuild-test/app:1-jennifer into the Docker daemon") {
		t.Fatalf("Put of a broken image: %v", err)
	}
	if info, err := testenv.DockerClient(t, host).ImageInspect(bg, "jbuild-test/app:1-jennifer"); err != nil || info.ID != configName(t, out).String() {
		t.Errorf("after a failed Put the tag is %s (%v), want %s", info.ID, err, configName(t, out))
	}

	// A multi-platform index cannot go into the daemon.
	if err := dst.Put(bg, &Artifact{Index: randomIndex(t)}); err == nil || !strings.Contains(err.Error(), "single-platform") {
		t.Errorf("Put of an index: %v", err)
	}
}

func TestDockerDaemonNotRunning(t *testing.T) {
	dead := "unix://" + t.TempDir() + "/docker.sock"
	t.Setenv("DOCKER_HOST", dead)
	st := openDocker(t, "", "docker-daemon:app:1")
	_, err := st.Get(bg)
	if err == nil || !strings.Contains(err.Error(), "cannot connect to the Docker daemon at "+dead+": is dockerd running? start it or set DOCKER_HOST") {
		t.Errorf("Get: %v", err)
	}
	if errors.Is(err, ErrNotFound) {
		t.Errorf("a daemon that is down is not a missing image: %v", err)
	}
	err = st.Put(bg, &Artifact{Image: randomImage(t)})
	if err == nil || !strings.Contains(err.Error(), "loading app:1 into the Docker daemon: cannot connect") {
		t.Errorf("Put: %v", err)
	}
}

// An image read from the daemon stays readable after its store is closed
// (the wrap engine closes a store it opened to find a base), and leaves no
// temp file behind.
func TestDockerDaemonArtifactOutlivesStore(t *testing.T) {
	host := testenv.Dockerd(t)
	testenv.LoadImage(t, host, "jbuild-test/outlive:1", randomImage(t))
	st, err := Open(mustParse(t, "docker-daemon:jbuild-test/outlive:1"), Options{Docker: DockerOptions{Host: host}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.Get(bg)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	layers, err := a.Image.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers %v, %v", layers, err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if tmp, _ := filepath.Glob(filepath.Join(os.TempDir(), "jbuild-docker-save-*")); len(tmp) > 0 {
		t.Errorf("temp files on disk: %v", tmp)
	}
}
