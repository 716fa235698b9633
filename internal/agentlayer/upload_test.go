package agentlayer

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

type recordingUpload struct {
	buf       bytes.Buffer
	committed v1.Hash
	aborted   bool
	failAfter int // fail Write once this many bytes were taken (0: never)
}

func (r *recordingUpload) Write(p []byte) (int, error) {
	if r.failAfter > 0 && r.buf.Len()+len(p) > r.failAfter {
		return 0, errors.New("connection reset")
	}
	return r.buf.Write(p)
}
func (r *recordingUpload) Finish(d v1.Hash) { r.committed = d }
func (r *recordingUpload) Abort()           { r.aborted = true }

// The upload receives exactly the layer's compressed bytes and is
// committed under the layer digest; it is told the size of the files'
// contents; a cache hit starts no upload.
func TestBuildStreamsToUpload(t *testing.T) {
	entries, b := sampleEntries(t)
	up := &recordingUpload{}
	started := 0
	var hint int64
	opts := Options{CacheDir: t.TempDir(), Upload: func(h int64) (Upload, error) { started++; hint = h; return up, nil }}
	l, err := Build(entries, b.open, opts)
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := l.Compressed()
	want, _ := io.ReadAll(rc)
	rc.Close()
	d, _ := l.Digest()
	if !bytes.Equal(up.buf.Bytes(), want) || up.committed != d || up.aborted {
		t.Errorf("upload got %d bytes committed %s aborted %v; want the %d layer bytes under %s", up.buf.Len(), up.committed, up.aborted, len(want), d)
	}
	var contents int64
	for _, e := range entries {
		switch {
		case e.From != "":
			rc, err := b.open(e.From)
			if err != nil {
				t.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, rc)
			rc.Close()
			contents += n
		default:
			contents += int64(len(e.Content))
		}
	}
	if hint != contents || contents == 0 {
		t.Errorf("the upload was told %d bytes; the entries hold %d", hint, contents)
	}
	if _, err := Build(entries, b.open, opts); err != nil || started != 1 {
		t.Errorf("second build: err %v, uploads started %d; a cache hit must not upload", err, started)
	}
}

// A failing upload is abandoned; the layer is still built and correct.
func TestBuildSurvivesFailingUpload(t *testing.T) {
	entries, b := sampleEntries(t)
	up := &recordingUpload{failAfter: 10}
	l, err := Build(entries, b.open, Options{CacheDir: t.TempDir(), Upload: func(int64) (Upload, error) { return up, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if !up.aborted || up.committed != (v1.Hash{}) {
		t.Errorf("aborted %v committed %s: a failed upload must be aborted, never committed", up.aborted, up.committed)
	}
	plain, err := Build(entries, b.open, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := l.Digest()
	d2, _ := plain.Digest()
	if d1 != d2 {
		t.Errorf("digest with a failed upload %s != without upload %s", d1, d2)
	}
}

// A layer streamed to an upload keeps no bytes in the cache, only its
// digests: a later Build finds them without compressing or uploading, and
// reading either layer compresses again to the very bytes uploaded.
func TestStreamedLayerKeepsDigestsOnly(t *testing.T) {
	entries, b := sampleEntries(t)
	dir := t.TempDir()
	up := &recordingUpload{}
	opts := Options{CacheDir: dir, Upload: func(int64) (Upload, error) { return repoUpload{up}, nil }}
	l, err := Build(entries, b.open, opts)
	if err != nil {
		t.Fatal(err)
	}
	if blobs, _ := filepath.Glob(filepath.Join(dir, "*.tar.gz")); len(blobs) != 0 {
		t.Errorf("cache holds %v; a streamed layer keeps its digests only", blobs)
	}
	metas, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(metas) != 1 {
		t.Fatalf("cache records %v; want one", metas)
	}
	uploads := 0
	opts.Upload = func(int64) (Upload, error) { uploads++; return &recordingUpload{}, nil }
	again, err := Build(entries, b.open, opts)
	if err != nil || uploads != 0 {
		t.Fatalf("second Build: %v, %d uploads; want a cache hit", err, uploads)
	}
	for _, layer := range []v1.Layer{l, again} {
		// Both offer the repository the layer went to, for mounts.
		if from := layer.(interface{ MountFrom() string }).MountFrom(); from != "reg.example/agent" {
			t.Errorf("MountFrom() = %q; want the upload's repository", from)
		}
		rc, err := layer.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || !bytes.Equal(got, up.buf.Bytes()) {
			t.Errorf("compressed again: %d bytes, %v; want the %d bytes uploaded", len(got), err, up.buf.Len())
		}
	}
	// A record whose digest does not match what the files give fails the
	// read instead of serving other bytes under that digest.
	data, _ := os.ReadFile(metas[0])
	d, _ := l.Digest()
	os.WriteFile(metas[0], bytes.Replace(data, []byte(d.Hex), bytes.Repeat([]byte("0"), 64), 1), 0o644)
	bad, err := Build(entries, b.open, opts)
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := bad.Compressed()
	if _, err := io.ReadAll(rc); err == nil || !strings.Contains(err.Error(), "expected sha256:000") {
		t.Errorf("reading under a wrong recorded digest: %v; want a mismatch error", err)
	}
}

// repoUpload is an upload that says where it goes.
type repoUpload struct{ *recordingUpload }

func (repoUpload) Repository() string { return "reg.example/agent" }
