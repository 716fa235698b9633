package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// viewServer imitates the JENNIFER view server's agent download: a zip
// without a file extension in the URL, with an ETag when etag is set.
type viewServer struct {
	zip       []byte
	etag      bool
	requests  atomic.Int64
	downloads atomic.Int64 // responses with a body
}

func (v *viewServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.requests.Add(1)
	if !strings.HasPrefix(r.URL.Path, "/download/agent/java/") {
		http.NotFound(w, r)
		return
	}
	tag := fmt.Sprintf(`"%d"`, len(v.zip))
	if v.etag {
		w.Header().Set("ETag", tag)
		if r.Header.Get("If-None-Match") == tag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	v.downloads.Add(1)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(v.zip)
}

func TestURLDownloadedOnceAndCached(t *testing.T) {
	vs := &viewServer{zip: makeZip(t, sampleAgent(), false), etag: true}
	srv := httptest.NewServer(vs)
	defer srv.Close()
	tmp := t.TempDir()
	opts := Options{CacheDir: tmp, HTTPClient: srv.Client()}
	url := srv.URL + "/download/agent/java/latest"

	b1 := bundleOf(t, url, opts)
	b2 := bundleOf(t, url, opts)
	if n := vs.downloads.Load(); n != 1 {
		t.Errorf("agent downloaded %d times, want once", n)
	}
	if n := vs.requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2 (download, then a conditional GET answered 304)", n)
	}
	if b1.Digest != b2.Digest || b1.Source != url || b1.Version != "" || b1.Name != "agent.java" {
		t.Errorf("bundles: %q %q %q %q / %q", b1.Digest, b1.Source, b1.Version, b1.Name, b2.Digest)
	}
	// Same files from a local folder: same digest.
	writeTree(t, filepath.Join(tmp, "tree"), sampleAgent())
	if d := bundleOf(t, filepath.Join(tmp, "tree"), opts).Digest; d != b1.Digest {
		t.Errorf("URL digest %s, folder digest %s", b1.Digest, d)
	}
	blobs, _ := filepath.Glob(filepath.Join(tmp, "downloads", "[0-9a-f]*"))
	if len(blobs) != 1 {
		t.Errorf("downloads cache: %v", blobs)
	}

	// The agent on the server changes: the conditional GET gets the new one.
	files := sampleAgent()
	files[1].body = "PK newer jar, longer"
	vs.zip = makeZip(t, files, false)
	b3 := bundleOf(t, url, opts)
	if b3.Digest == b1.Digest || vs.downloads.Load() != 2 {
		t.Errorf("upgrade on the server not picked up (downloads %d)", vs.downloads.Load())
	}
}

func TestURLWithoutValidatorsAndSecrets(t *testing.T) {
	vs := &viewServer{zip: makeZip(t, sampleAgent(), false)}
	srv := httptest.NewServer(vs)
	defer srv.Close()
	tmp := t.TempDir()
	opts := Options{CacheDir: tmp, HTTPClient: srv.Client()}
	url := strings.Replace(srv.URL, "http://", "http://user:s3cret@", 1) + "/download/agent/java/5.6.4.2?token=abc"
	b := bundleOf(t, url, opts)
	bundleOf(t, url, opts)
	if vs.downloads.Load() != 2 {
		t.Errorf("without validators each Open downloads: got %d", vs.downloads.Load())
	}
	if strings.Contains(b.Source, "s3cret") || strings.Contains(b.Source, "token") || b.Source != srv.URL+"/download/agent/java/5.6.4.2" {
		t.Errorf("source %q leaks secrets or lost the path", b.Source)
	}
	if b.Version != "5.6.4.2" {
		t.Errorf("version %q", b.Version)
	}
	blobs, _ := filepath.Glob(filepath.Join(tmp, "downloads", "[0-9a-f]*"))
	if len(blobs) != 1 {
		t.Errorf("same content stored once by its digest: %v", blobs)
	}
}

func TestURLErrorsLeaveNoPartialFile(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/cut") {
			w.Header().Set("Content-Length", "100000")
			w.Write([]byte("PK\x03\x04 only the start"))
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	tmp := t.TempDir()
	opts := Options{CacheDir: tmp, HTTPClient: srv.Client()}
	ctx := context.Background()
	if _, err := Open(ctx, srv.URL+"/download/agent/java/cut", opts); err == nil {
		t.Error("cut download accepted")
	}
	if _, err := Open(ctx, srv.URL+"/download/agnet/java/latest", opts); err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "/download/agent/") {
		t.Errorf("404: %v", err)
	}
	if got := listFiles(t, tmp); len(got) != 0 {
		t.Errorf("failed downloads left files: %v", got)
	}
}
