package testenv

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestMain(m *testing.M) { Main(m) }

func TestRegistryPushAndRead(t *testing.T) {
	reg := Registry(t)
	if again := Registry(t); again != reg {
		t.Fatalf("second Registry call started another registry: %s vs %s", again, reg)
	}
	ref := reg + "/testenv/app:1"
	want := PushRandomImage(t, ref, 2, 4096, func(c *v1.ConfigFile) {
		c.Config.User = "1000:1000"
		c.Config.Env = append(c.Config.Env, "JAVA_TOOL_OPTIONS=-Xmx512m")
	})

	r, _ := name.ParseReference(ref, name.Insecure)
	img, err := remote.Image(r)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := img.Digest()
	if got != want {
		t.Errorf("digest read back %s, pushed %s", got, want)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Config.User != "1000:1000" || cfg.Architecture != "amd64" || len(cfg.RootFS.DiffIDs) != 2 {
		t.Errorf("config read back: user %q arch %q diffids %d", cfg.Config.User, cfg.Architecture, len(cfg.RootFS.DiffIDs))
	}
	layers, _ := img.Layers()
	if sz, _ := layers[0].Size(); sz < 4096 {
		t.Errorf("layer blob is %d bytes, want at least the 4096 random bytes", sz)
	}
}

func TestRegistryIndex(t *testing.T) {
	reg := Registry(t)
	ref := reg + "/testenv/multi:1"
	want := PushIndex(t, ref, 1, 1024, func(p v1.Platform, c *v1.ConfigFile) {
		c.Config.Env = append(c.Config.Env, "ARCH="+p.Architecture)
	})
	r, _ := name.ParseReference(ref, name.Insecure)
	idx, err := remote.Index(r)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := idx.Digest(); got != want {
		t.Errorf("index digest %s, pushed %s", got, want)
	}
	im, _ := idx.IndexManifest()
	if len(im.Manifests) != 2 {
		t.Fatalf("index has %d manifests, want 2", len(im.Manifests))
	}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := img.ConfigFile()
		if cfg.Architecture != d.Platform.Architecture || !contains(cfg.Config.Env, "ARCH="+d.Platform.Architecture) {
			t.Errorf("%s: config arch %q env %v", d.Platform, cfg.Architecture, cfg.Config.Env)
		}
	}
}

func TestRegistryDeleteEnabled(t *testing.T) {
	reg := Registry(t)
	ref := reg + "/testenv/del:1"
	d := PushRandomImage(t, ref, 1, 128, nil)
	req, _ := http.NewRequest(http.MethodDelete, "http://"+reg+"/v2/testenv/del/manifests/"+d.String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("DELETE manifest: %s, want 202 (storage.delete.enabled)", resp.Status)
	}
}

func TestStartRegistryTwice(t *testing.T) {
	requireFull(t, "starts the real registry (docker-registry)")
	a, stopA, err := StartRegistry()
	if err != nil {
		t.Fatal(err)
	}
	b, stopB, err := StartRegistry()
	if err != nil {
		stopA()
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("two registries on the same address %s", a)
	}
	stopA()
	stopA() // idempotent
	if _, err := http.Get("http://" + a + "/v2/"); err == nil {
		t.Errorf("registry %s still answers after stop", a)
	}
	stopB()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestSampleJavaAgent(t *testing.T) {
	for _, f := range []string{"jennifer.jar", "conf/jennifer.conf"} {
		if _, err := os.Stat(filepath.Join(SampleJavaAgent(), f)); err != nil {
			t.Error(err)
		}
	}
}

func TestReadHelpers(t *testing.T) {
	reg := Registry(t)
	ref := reg + "/testenv/read:1"
	want := PushRandomImage(t, ref, 1, 64, func(c *v1.ConfigFile) { c.Config.User = "app" })
	if got, _ := Image(t, ref).Digest(); got != want {
		t.Errorf("Image digest %s, want %s", got, want)
	}
	if u := Config(t, ref).Config.User; u != "app" {
		t.Errorf("Config user %q", u)
	}
	PushIndex(t, reg+"/testenv/read:idx", 1, 64, nil)
	if im, err := Index(t, reg+"/testenv/read:idx").IndexManifest(); err != nil || len(im.Manifests) != 2 {
		t.Errorf("Index: %v %v", im, err)
	}
}
