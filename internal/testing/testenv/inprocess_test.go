package testenv

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Under -short Registry is the in-process registry, needing no binary;
// the real one skips.
func TestRegistryTiers(t *testing.T) {
	reg := Registry(t)
	if !strings.HasPrefix(reg, "127.0.0.1:") {
		t.Errorf("Registry = %q, want 127.0.0.1:PORT", reg)
	}
	if testing.Short() {
		if reg != inProcessRegistry() {
			t.Errorf("under -short Registry = %s, want the in-process registry %s", reg, inProcessRegistry())
		}
		t.Run("real registry skips", func(t *testing.T) {
			RealRegistry(t)
			t.Error("RealRegistry did not skip under -short")
		})
		return
	}
	if reg != RealRegistry(t) {
		t.Errorf("without -short Registry = %s, want the real registry %s", reg, RealRegistry(t))
	}
}

// A blob pushed to one repository is unknown in another until pushed
// there, as distribution keeps it; deleting it from one leaves the other.
func TestInProcessRegistryBlobsPerRepository(t *testing.T) {
	addr, stop := StartInProcessRegistry()
	defer stop()
	defer stop() // safe twice
	img, err := RandomImage(Spec{Layers: 1, LayerSize: 256})
	if err != nil {
		t.Fatal(err)
	}
	PushImage(t, addr+"/a/app:1", img)
	layers, _ := img.Layers()
	layer, _ := layers[0].Digest()
	blob := func(repo string) string { return "http://" + addr + "/v2/" + repo + "/blobs/" + layer.String() }
	status := func(method, url string) int {
		t.Helper()
		req, _ := http.NewRequest(method, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(http.MethodHead, blob("a/app")); got != http.StatusOK {
		t.Errorf("HEAD blob in its repository: %d", got)
	}
	if got := status(http.MethodHead, blob("b/app")); got != http.StatusNotFound {
		t.Errorf("HEAD blob in another repository: %d, want 404", got)
	}
	PushImage(t, addr+"/b/app:1", img)
	if got := status(http.MethodGet, blob("b/app")); got != http.StatusOK {
		t.Errorf("GET blob after pushing it to b/app: %d", got)
	}
	if got := status(http.MethodDelete, blob("a/app")); got != http.StatusAccepted {
		t.Errorf("DELETE blob: %d", got)
	}
	if got := status(http.MethodHead, blob("a/app")); got != http.StatusNotFound {
		t.Errorf("HEAD deleted blob: %d, want 404", got)
	}
	if got := status(http.MethodHead, blob("b/app")); got != http.StatusOK {
		t.Errorf("HEAD blob in b/app after deleting it from a/app: %d", got)
	}
	// A repository with a component named blobs.
	PushImage(t, addr+"/c/blobs:1", img)
	if got := status(http.MethodHead, blob("c/blobs")); got != http.StatusOK {
		t.Errorf("HEAD blob in c/blobs: %d", got)
	}
	if _, err := remote.Image(parseRef(t, addr+"/c/blobs:1")); err != nil {
		t.Errorf("reading c/blobs:1: %v", err)
	}
}

// An image manifest naming a blob its repository lacks is refused, as
// distribution refuses it; with the blobs it is taken.
func TestInProcessRegistryRefusesManifestWithoutBlobs(t *testing.T) {
	addr, stop := StartInProcessRegistry()
	defer stop()
	img, err := RandomImage(Spec{Layers: 1, LayerSize: 256, OCI: true})
	if err != nil {
		t.Fatal(err)
	}
	PushImage(t, addr+"/full/app:1", img)
	raw, _ := img.RawManifest()
	mt, _ := img.MediaType()
	put := func(repo string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/v2/"+repo+"/manifests/1", bytes.NewReader(raw))
		req.Header.Set("Content-Type", string(mt))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := put("empty/app"); code != http.StatusBadRequest || !strings.Contains(body, "MANIFEST_BLOB_UNKNOWN") {
		t.Errorf("manifest without its blobs: %d %s, want 400 MANIFEST_BLOB_UNKNOWN", code, body)
	}
	if _, err := remote.Head(parseRef(t, addr+"/empty/app:1")); err == nil {
		t.Error("the refused manifest was stored")
	}
	if code, body := put("full/app"); code != http.StatusCreated {
		t.Errorf("manifest with its blobs: %d %s", code, body)
	}
}

// The in-process registry serves what the image helpers push and read:
// images, indexes, digests.
func TestInProcessRegistryRoundTrip(t *testing.T) {
	addr, stop := StartInProcessRegistry()
	defer stop()
	want := PushRandomImage(t, addr+"/rt/app:1", 2, 1024, func(c *v1.ConfigFile) { c.Config.User = "app" })
	if got, _ := Image(t, addr+"/rt/app:1").Digest(); got != want {
		t.Errorf("image digest %s, pushed %s", got, want)
	}
	if got, _ := Image(t, addr+"/rt/app@"+want.String()).Digest(); got != want {
		t.Errorf("by digest: %s", got)
	}
	idx := PushIndex(t, addr+"/rt/multi:1", 1, 64, nil)
	if got, _ := Index(t, addr+"/rt/multi:1").Digest(); got != idx {
		t.Errorf("index digest %s, pushed %s", got, idx)
	}
}
