package transport

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// randomImage is a small OCI image with one random layer (so every call
// gives another digest).
func randomImage(t testing.TB) v1.Image {
	t.Helper()
	img, err := testenv.RandomImage(testenv.Spec{Layers: 1, LayerSize: 512, OCI: true})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func randomIndex(t testing.TB) v1.ImageIndex {
	t.Helper()
	idx, err := testenv.RandomIndex(testenv.Spec{Layers: 1, LayerSize: 256})
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func digestOf(t testing.TB, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustParse(t testing.TB, s string) Ref {
	t.Helper()
	r, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return r
}

func mustOpen(t testing.TB, s string) Store {
	t.Helper()
	st, err := Open(mustParse(t, s), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// artifactDigest is the digest of what a Get returned.
func artifactDigest(t testing.TB, a *Artifact) v1.Hash {
	t.Helper()
	if (a.Image == nil) == (a.Index == nil) {
		t.Fatalf("artifact has image %v and index %v: want exactly one", a.Image != nil, a.Index != nil)
	}
	h, err := a.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

var errBrokenLayer = errors.New("layer source broke (test)")

// brokenLayer claims the digest and size of a real layer but its content
// stream fails after a few bytes, like a source that dies mid-transfer.
type brokenLayer struct{ v1.Layer }

type failingReader struct {
	r io.Reader
}

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, errBrokenLayer
	}
	return n, err
}

func (b brokenLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(failingReader{bytes.NewReader([]byte("partial"))}), nil
}

func (b brokenLayer) Uncompressed() (io.ReadCloser, error) {
	return io.NopCloser(failingReader{bytes.NewReader([]byte("partial"))}), nil
}

// imageWithBrokenLayer is a valid-looking image whose single layer cannot
// be read.
func imageWithBrokenLayer(t testing.TB) v1.Image {
	t.Helper()
	l, err := testenv.RandomLayer(4096, true)
	if err != nil {
		t.Fatal(err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: brokenLayer{l}})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// probeLayer runs onRead when its content is first read (to observe what a
// store has written at that moment).
type probeLayer struct {
	v1.Layer
	onRead func()
}

func (p probeLayer) Compressed() (io.ReadCloser, error) {
	p.onRead()
	return p.Layer.Compressed()
}

func imageWithProbe(t testing.TB, onRead func()) v1.Image {
	t.Helper()
	l, err := testenv.RandomLayer(2048, true)
	if err != nil {
		t.Fatal(err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: probeLayer{l, onRead}})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// tempFiles lists files under dir whose name marks them as temporaries.
func tempFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// tarEntry is one entry of a hand-made archive.
type tarEntry struct {
	name     string
	typ      byte
	body     string
	linkname string
}

func writeTar(t testing.TB, path string, entries []tarEntry) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Linkname: e.linkname, Format: tar.FormatPAX}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readTarNames lists an archive's entry names in order.
func readTarNames(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
}

var bg = context.Background()

func mustGetwd(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

func emptyIndexForTest() v1.ImageIndex { return empty.Index }
