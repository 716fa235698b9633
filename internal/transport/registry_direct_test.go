package transport

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/jbuild-dev/jbuild/internal/testing/faultproxy"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// requestLog reads the requests a proxy receives from the moment it is
// made (watch), by method and path kind.
type requestLog struct {
	p    *faultproxy.Proxy
	from int
}

func watch(p *faultproxy.Proxy) requestLog { return requestLog{p: p, from: len(p.Requests())} }

// kinds are the requests seen, as "METHOD kind".
func (l requestLog) kinds() []string {
	var out []string
	for _, r := range l.p.Requests()[l.from:] {
		path, _, _ := strings.Cut(r.URI, "?")
		kind := path
		switch {
		case path == "/v2/":
			kind = "ping"
		case strings.HasSuffix(path, "/blobs/uploads/"):
			kind = "upload start"
		case strings.Contains(path, "/blobs/uploads/"):
			kind = "upload"
		case strings.Contains(path, "/blobs/"):
			kind = "blob"
		case strings.Contains(path, "/manifests/"):
			kind = "manifest"
		}
		out = append(out, r.Method+" "+kind)
	}
	return out
}

func (l requestLog) count(what string) int {
	n := 0
	for _, k := range l.kinds() {
		if k == what {
			n++
		}
	}
	return n
}

// After a streamed layer, Put writes the config and the manifest through
// the client the stream authenticated: no second ping, and the config goes
// up in one PUT, without a PATCH of its own.
func TestPutAfterStreamReusesPushClient(t *testing.T) {
	reg := testenv.Registry(t)
	p := faultproxy.Start(t, reg)
	log := watch(p)

	s := streamStore(t, p.Addr()+"/direct/a:1")
	img, _ := streamedImage(t, s, 2*smallBlob) // a PATCH, then its commit
	if err := s.Put(context.Background(), &Artifact{Image: img}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	s.Close()
	if n := log.count("GET ping"); n != 1 {
		t.Errorf("%d pings; want 1 (the stream's client serves the config and manifest too): %v", n, log.kinds())
	}
	if n := log.count("PATCH upload"); n != 1 {
		t.Errorf("%d PATCH requests; want 1 (the streamed layer; the config goes up in its PUT): %v", n, log.kinds())
	}
	if n := log.count("PUT manifest"); n != 1 {
		t.Errorf("%d manifest PUTs; want 1: %v", n, log.kinds())
	}
	if w := s.Written(); w.Blobs != 2 || !w.Tagged {
		t.Errorf("written %+v; want 2 blobs (layer, config) and the tag", w)
	}
	d, _ := img.Digest()
	got, err := remote.Image(mustParse(t, reg+"/direct/a:1").Registry)
	if err != nil {
		t.Fatalf("reading the result back: %v", err)
	}
	if gd, _ := got.Digest(); gd != d {
		t.Errorf("tag points at %s; want %s", gd, d)
	}
	if _, err := got.ConfigFile(); err != nil {
		t.Errorf("config of the result: %v", err)
	}
}

// The config's one-request upload is retried with its whole body
// when the registry answers 503, rather than falling back to a chunked
// upload or failing.
func TestSmallBlobPutRetriedWithBody(t *testing.T) {
	reg := testenv.Registry(t)
	p := faultproxy.Start(t, reg)
	p.Add(faultproxy.Rule{Method: "PUT", Path: faultproxy.PathUpload, Kind: faultproxy.Status503})
	s := fastStore(t, p.Addr()+"/direct/b:1")
	defer s.Close()
	data := []byte(`{"config":"retried with its body"}`)
	h, _, _ := v1.SHA256(bytes.NewReader(data))
	if err := s.putSmallBlob(context.Background(), h, data, func() error {
		return errors.New("fell back to a chunked upload")
	}); err != nil {
		t.Fatalf("putSmallBlob with one 503: %v", err)
	}
	if st := p.Stats(); st.Faults[faultproxy.Status503] != 1 {
		t.Fatalf("faults injected: %v; want one 503", st)
	}
	got, err := blobBytes(t, reg+"/direct/b", h)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("blob after the retry: %q, %v; want %q", got, err, data)
	}
}

// StartBlob does not wait for the registry: the caller writes while the
// session opens. A session that cannot be opened fails the upload at
// Commit, saying so, and the writer is never blocked by it.
func TestStartBlobSessionFails(t *testing.T) {
	reg := testenv.Registry(t)
	p := faultproxy.Start(t, reg)
	p.Add(faultproxy.Rule{Method: "POST", Path: faultproxy.PathUploadStart, Times: -1, Kind: faultproxy.Status500})
	s := fastStore(t, p.Addr()+"/direct/c:1")
	defer s.Close()
	u, err := s.StartBlob(context.Background(), 0)
	if err != nil {
		t.Fatalf("StartBlob: %v; want the failure at Commit", err)
	}
	chunk := make([]byte, chunkSize)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range uploadQueue * 2 { // more than the queue holds
			u.Write(chunk)
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Write blocked on an upload whose session failed")
	}
	h, _, _ := v1.SHA256(bytes.NewReader(nil))
	err = u.Commit(h)
	if err == nil || !strings.Contains(err.Error(), "opening an upload session") {
		t.Errorf("Commit: %v; want the session failure", err)
	}
}

// A store reads its reference once: a second Get asks the registry
// nothing, and after Put the reference is read again.
func TestRegistryGetReadsOnce(t *testing.T) {
	reg := testenv.Registry(t)
	testenv.PushImage(t, reg+"/direct/once:1", randomImage(t))
	p := faultproxy.Start(t, reg)
	log := watch(p)
	s := streamStore(t, p.Addr()+"/direct/once:1")
	defer s.Close()
	first, err := s.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := log.count("GET manifest"); n != 1 || first != second {
		t.Errorf("two Gets: %d manifest GETs, same artifact %v; want 1 and the same: %v", n, first == second, log.kinds())
	}
	img := randomImage(t)
	if err := s.Put(context.Background(), &Artifact{Image: img}); err != nil {
		t.Fatal(err)
	}
	third, err := s.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if got, _ := third.Digest(); got != want || log.count("GET manifest") != 2 {
		t.Errorf("Get after Put: %s, %d manifest GETs; want %s, read again", got, log.count("GET manifest"), want)
	}
}
