package main

// The raise (u): the physical floor of a wrap with a new agent. Scenario a
// uploads one new blob of size (the compressed agent layer) and a few small
// documents; the least any tool can do for it is upload that blob. Right
// after each a, the agent layer jbuild made is fetched (not timed) and the
// same bytes are uploaded, timed, with go-containerregistry's
// remote.WriteLayer from this process to a repository of the same registry
// that does not hold it: a new connection and the registry's ping, then
// HEAD, POST, one streamed PATCH and the PUT that commits the digest.
//
// Why this peer: it moves exactly the bytes jbuild moved, to the same
// registry in the same run, with no compression, no hashing on the client
// and no process start (jbuild pays ~10 ms for its process); `crane` has no
// command that uploads a ready blob (`crane append` builds and compresses
// a layer and writes a manifest), so a crane process would measure more
// than the floor. The registry already stores those bytes (in a's
// repository): it still receives, hashes and verifies all of them, and only
// skips the final rename into its blob store, which makes the floor a
// little cheaper, never dearer, than jbuild's upload.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const sFloor = "u"

type raiseState struct {
	size int64 // the last agent layer uploaded, compressed bytes
}

// floor times the bare upload of the agent layer scenario a just wrote to
// b.big-jennifer.
func (b *bench) floor(record func(string, time.Duration)) error {
	l, err := newLayer(b.big, b.big+"-jennifer")
	if err != nil {
		return err
	}
	blob := filepath.Join(b.tmp, "floor.blob")
	if err := download(l, blob); err != nil {
		return err
	}
	fl, err := fileLayerOf(l, blob)
	if err != nil {
		return err
	}
	b.raise.size = fl.size
	repo, err := name.NewRepository(b.reg+"/floor", name.Insecure)
	if err != nil {
		return err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	start := time.Now()
	if err := remote.WriteLayer(repo, fl, remote.WithTransport(tr)); err != nil {
		return fmt.Errorf("bare upload of %s: %w", fl.digest, err)
	}
	record(sFloor, time.Since(start))
	return nil
}

// newLayer returns the largest layer of out that src does not have: the
// agent layer of a jbuild output.
func newLayer(src, out string) (v1.Layer, error) {
	have := map[v1.Hash]bool{}
	sl, err := layersOf(src)
	if err != nil {
		return nil, err
	}
	for _, l := range sl {
		d, err := l.Digest()
		if err != nil {
			return nil, err
		}
		have[d] = true
	}
	ol, err := layersOf(out)
	if err != nil {
		return nil, err
	}
	var best v1.Layer
	var bestSize int64 = -1
	for _, l := range ol {
		d, err := l.Digest()
		if err != nil {
			return nil, err
		}
		size, err := l.Size()
		if err != nil {
			return nil, err
		}
		if !have[d] && size > bestSize {
			best, bestSize = l, size
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%s has no layer %s lacks", out, src)
	}
	return best, nil
}

func layersOf(ref string) ([]v1.Layer, error) {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	return img.Layers()
}

func download(l v1.Layer, path string) error {
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// fileLayer is a compressed layer whose bytes are in a file and whose
// digests are known: uploading it hashes nothing on the client.
type fileLayer struct {
	path           string
	digest, diffID v1.Hash
	size           int64
	mt             types.MediaType
}

func fileLayerOf(l v1.Layer, path string) (*fileLayer, error) {
	fl := &fileLayer{path: path}
	var err error
	if fl.digest, err = l.Digest(); err != nil {
		return nil, err
	}
	if fl.diffID, err = l.DiffID(); err != nil {
		return nil, err
	}
	if fl.mt, err = l.MediaType(); err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	fl.size = st.Size()
	return fl, nil
}

func (l *fileLayer) Digest() (v1.Hash, error)             { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)             { return l.diffID, nil }
func (l *fileLayer) Size() (int64, error)                 { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error)  { return l.mt, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)   { return os.Open(l.path) }
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) { return nil, fmt.Errorf("not needed") }
