package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/jbuild-dev/jbuild/internal/testing/faultproxy"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

func streamStore(t *testing.T, ref string) *registryStore {
	t.Helper()
	r, err := Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	return newRegistryStore(r, RegistryOptions{})
}

func blobBytes(t *testing.T, repo string, h v1.Hash) ([]byte, error) {
	t.Helper()
	d, err := name.NewDigest(repo + "@" + h.String())
	if err != nil {
		t.Fatal(err)
	}
	l, err := remote.Layer(d)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// streamedImage streams size random bytes to s as a layer (StartBlob,
// Write, Finish: the commit is left running) and returns an image made of
// that layer, and the bytes.
func streamedImage(t *testing.T, s *registryStore, size int) (v1.Image, []byte) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	layer := static.NewLayer(data, types.OCILayer)
	h, _ := layer.Digest()
	u, err := s.StartBlob(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	u.Write(data)
	u.Finish(h)
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	return img, data
}

// Bytes written in many small pieces arrive whole under their digest, and
// the store then knows the blob without asking.
func TestStreamBlobCommit(t *testing.T) {
	reg := testenv.Registry(t)
	s := streamStore(t, reg+"/stream/a:1")
	data := make([]byte, 3<<20+17)
	rand.Read(data)
	u, err := s.StartBlob(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += 4096 {
		end := min(off+4096, len(data))
		if _, err := u.Write(data[off:end]); err != nil {
			t.Fatal(err)
		}
	}
	h := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(data))}
	if err := u.Commit(h); err != nil {
		t.Fatal(err)
	}
	got, err := blobBytes(t, reg+"/stream/a", h)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("blob after commit: %d bytes, err %v; want the %d bytes written", len(got), err, len(data))
	}
	if !s.uploaded[h] {
		t.Error("the store does not remember the committed blob")
	}
}

// A wrong digest is refused by the registry and nothing is stored; an
// aborted upload stores nothing either.
func TestStreamBlobWrongDigestAndAbort(t *testing.T) {
	reg := testenv.Registry(t)
	s := streamStore(t, reg+"/stream/b:1")
	data := []byte("the real content")
	u, err := s.StartBlob(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	u.Write(data)
	wrong := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256([]byte("something else")))}
	if err := u.Commit(wrong); err == nil {
		t.Fatal("commit under a wrong digest succeeded")
	}
	if _, err := blobBytes(t, reg+"/stream/b", wrong); err == nil {
		t.Error("a blob exists under the wrong digest")
	}
	if s.uploaded[wrong] {
		t.Error("the store remembers a blob the registry refused")
	}

	u, err = s.StartBlob(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	u.Write(data)
	u.Abort()
	right := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(data))}
	if _, err := blobBytes(t, reg+"/stream/b", right); err == nil {
		t.Error("an aborted upload left a blob")
	}
}

// Finish returns at once and the commit runs on: a Put right after waits
// for it (the manifest needs the blob) instead of uploading the blob
// again, and Close waits for commits still running. A commit the registry
// refuses leaves the blob unknown, so Put uploads it itself.
func TestStreamBlobFinishInBackground(t *testing.T) {
	reg := testenv.Registry(t)
	s := streamStore(t, reg+"/stream/c:1")
	img, data := streamedImage(t, s, 2<<20)
	h, _ := static.NewLayer(data, types.OCILayer).Digest()
	if err := s.Put(context.Background(), &Artifact{Image: img}); err != nil {
		t.Fatalf("Put right after Finish: %v", err)
	}
	// One streamed blob and the config: the layer was not uploaded twice.
	if w := s.Written(); w.Blobs != 2 || !w.Tagged {
		t.Errorf("written %+v; want 2 blobs (the streamed layer once, the config) and the tag", w)
	}

	s2 := streamStore(t, reg+"/stream/d:1")
	u, err := s2.StartBlob(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	u.Write(data)
	wrong := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256([]byte("not it")))}
	u.Finish(wrong)
	s2.Close()
	if len(s2.pendingBlobs()) != 0 || s2.uploaded[wrong] {
		t.Errorf("after Close: pending %v, wrong digest known %v; want no commit running and nothing known", s2.pendingBlobs(), s2.uploaded[wrong])
	}
	u, err = s2.StartBlob(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	u.Write(data[:10]) // the registry will refuse this digest
	u.Finish(h)
	if err := s2.Put(context.Background(), &Artifact{Image: img}); err != nil {
		t.Fatalf("Put after a failed commit: %v", err)
	}
	got, err := blobBytes(t, reg+"/stream/d", h)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("layer after Put: %d bytes, %v; want the %d bytes uploaded by Put", len(got), err, len(data))
	}
}

// Prepared upload sessions are used by StartBlob, and the ones left over
// are cancelled on Close: the registry forgets them.
func TestPreparedSessions(t *testing.T) {
	reg := testenv.Registry(t)
	s := streamStore(t, reg+"/stream/e:1")
	s.PrepareBlobs(context.Background(), 2)
	u, err := s.StartBlob(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("through a prepared session")
	u.Write(data)
	h := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(data))}
	if err := u.Commit(h); err != nil {
		t.Fatal(err)
	}
	if len(s.spares) != 1 {
		t.Fatalf("%d prepared sessions left; want 1", len(s.spares))
	}
	// Look at the spare's upload URL without using it up.
	r := <-s.spares[0]
	s.spares[0] <- r
	if r.err != nil {
		t.Fatal(r.err)
	}
	status := func() int {
		resp, err := r.sess.client.Get(r.sess.loc.String())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(); got != http.StatusNoContent {
		t.Fatalf("prepared session: GET %s = %d; want 204 (open)", r.sess.loc, got)
	}
	s.Close()
	if got := status(); got != http.StatusNotFound {
		t.Errorf("after Close: GET %s = %d; want 404 (cancelled)", r.sess.loc, got)
	}
}

// mountOnly is a layer whose bytes cannot be read: it can only reach a
// repository by a cross-repository mount from the one it names.
type mountOnly struct {
	v1.Layer
	from string
}

func (m mountOnly) MountFrom() string { return m.from }
func (m mountOnly) Compressed() (io.ReadCloser, error) {
	return nil, errors.New("bytes read: the layer should have been mounted")
}

// streamedLayer streams a new 1 MiB layer to ref's repository and returns
// it, its bytes, its digest and the repository it went to.
func streamedLayer(t *testing.T, ref string) (v1.Layer, []byte, v1.Hash, string) {
	t.Helper()
	data := make([]byte, 1<<20)
	rand.Read(data)
	layer := static.NewLayer(data, types.OCILayer)
	h, _ := layer.Digest()
	u, err := streamStore(t, ref).StartBlob(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	u.Write(data)
	if err := u.Commit(h); err != nil {
		t.Fatal(err)
	}
	return layer, data, h, u.(interface{ Repository() string }).Repository()
}

// A layer streamed to one repository is mounted into another of the same
// registry, not uploaded again: the push succeeds without reading a byte.
func TestPutMountsStreamedLayer(t *testing.T) {
	reg := testenv.Registry(t)
	layer, data, h, from := streamedLayer(t, reg+"/mount/a:1")

	// The target repository already has its base (kept, so Put knows it).
	base, err := mutate.AppendLayers(empty.Image, static.NewLayer([]byte("base"), types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	dst := streamStore(t, reg+"/mount/b:1")
	baseRef, _ := Parse(reg + "/mount/b:base")
	baseStore := streamStore(t, baseRef.String())
	if err := baseStore.Put(context.Background(), &Artifact{Image: base}); err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(base, mountOnly{Layer: layer, from: from})
	if err != nil {
		t.Fatal(err)
	}
	if err := dst.Put(context.Background(), &Artifact{Image: img}, &Artifact{Image: base, Origin: baseRef}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := blobBytes(t, reg+"/mount/b", h)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("layer in the target repository: %d bytes, %v; want the mounted %d", len(got), err, len(data))
	}
}

// On a registry that takes anonymous pushes, the mount is one POST: no
// HEAD first (for `wrap -f`, that HEAD was a round trip per image and
// layer that always said no), and the config goes up without one either.
func TestMountWithoutHead(t *testing.T) {
	pingAnswers.Clear()
	t.Cleanup(pingAnswers.Clear)
	reg := testenv.Registry(t)
	p := faultproxy.Start(t, reg)
	log := watch(p)
	layer, data, h, from := streamedLayer(t, p.Addr()+"/mounthead/a:1")
	img, err := mutate.AppendLayers(empty.Image, mountOnly{Layer: layer, from: from})
	if err != nil {
		t.Fatal(err)
	}
	dst := streamStore(t, p.Addr()+"/mounthead/b:1")
	// A streamed blob still committing makes Put take the path that
	// knows what the repository holds (putKnown), as in a wrap.
	if err := dst.Put(context.Background(), &Artifact{Image: img}, &Artifact{Image: empty.Image, Origin: dst.Ref()}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	dst.Close()
	if n := log.count("HEAD blob"); n != 0 {
		t.Errorf("%d blob HEADs; want none (mount and config go up directly): %v", n, log.kinds())
	}
	if n := log.count("POST upload start"); n < 2 {
		t.Errorf("%d upload POSTs; want the stream's and the mount's: %v", n, log.kinds())
	}
	got, err := blobBytes(t, reg+"/mounthead/b", h)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("layer in the target repository: %d bytes, %v; want the mounted %d", len(got), err, len(data))
	}
	if w := dst.Written(); w.Blobs != 2 || !w.Tagged {
		t.Errorf("written %+v; want 2 blobs (the mounted layer, the config) and the tag", w)
	}
}

// A streamed blob that ends within smallBlob goes up in one PUT on its
// session (no PATCH): a settings layer is a few KB. A larger one is one
// PATCH and the commit, as before; both arrive whole under their digest.
func TestStreamSmallBlobInOnePut(t *testing.T) {
	pingAnswers.Clear()
	t.Cleanup(pingAnswers.Clear)
	reg := testenv.Registry(t)
	p := faultproxy.Start(t, reg)
	for _, tc := range []struct {
		size          int
		patches, puts int
	}{{size: 3 << 10, patches: 0, puts: 1}, {size: smallBlob + 1, patches: 1, puts: 1}} {
		log := watch(p)
		s := streamStore(t, p.Addr()+"/smallblob/a:1")
		data := make([]byte, tc.size)
		rand.Read(data)
		u, err := s.StartBlob(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(data); off += 4096 {
			u.Write(data[off:min(off+4096, len(data))])
		}
		h := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(data))}
		if err := u.Commit(h); err != nil {
			t.Fatalf("%d bytes: %v", tc.size, err)
		}
		if n, m := log.count("PATCH upload"), log.count("PUT upload"); n != tc.patches || m != tc.puts {
			t.Errorf("%d bytes: %d PATCHes and %d PUTs, want %d and %d: %v", tc.size, n, m, tc.patches, tc.puts, log.kinds())
		}
		got, err := blobBytes(t, reg+"/smallblob/a", h)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: the blob holds %d bytes (%v)", tc.size, len(got), err)
		}
		if !s.uploaded[h] {
			t.Errorf("%d bytes: the store does not remember the blob", tc.size)
		}
	}
}

// A blob whose data is large (sizeHint over streamAtOnce) starts its
// PATCH with its first bytes; one of unknown size holds them back until it
// knows whether the blob ends small. Either way the blob arrives whole.
func TestStreamLargeBlobStartsAtOnce(t *testing.T) {
	for _, tc := range []struct {
		sizeHint int64
		early    bool // the PATCH arrives before smallBlob bytes are written
		size     int
	}{
		{sizeHint: streamAtOnce + 1, early: true, size: 64 << 10},
		{sizeHint: 0, early: false, size: 64 << 10},
		{sizeHint: streamAtOnce, early: false, size: 64 << 10},
	} {
		reg := testenv.RegistryHandler()
		patched := make(chan struct{})
		var once sync.Once
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPatch {
				once.Do(func() { close(patched) })
			}
			reg.ServeHTTP(w, r)
		}))
		s := streamStore(t, srv.Listener.Addr().String()+"/early/a:1")
		data := make([]byte, tc.size)
		rand.Read(data)
		u, err := s.StartBlob(context.Background(), tc.sizeHint)
		if err != nil {
			t.Fatal(err)
		}
		u.Write(data)
		wait := 10 * time.Second // the session's POST and the PATCH's headers
		if !tc.early {
			wait = 300 * time.Millisecond // none should come at all
		}
		select {
		case <-patched:
			if !tc.early {
				t.Errorf("sizeHint %d: the PATCH started with %d bytes written, want it held back", tc.sizeHint, tc.size)
			}
		case <-time.After(wait):
			if tc.early {
				t.Errorf("sizeHint %d: no PATCH within %s of the first %d bytes", tc.sizeHint, wait, tc.size)
			}
		}
		h := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(data))}
		if err := u.Commit(h); err != nil {
			t.Fatalf("sizeHint %d: %v", tc.sizeHint, err)
		}
		got, err := blobBytes(t, srv.Listener.Addr().String()+"/early/a", h)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("sizeHint %d: the blob holds %d bytes (%v)", tc.sizeHint, len(got), err)
		}
		s.Close()
		srv.Close()
	}
}
