package agentlayer

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// layer is a compressed layer whose digests are already known (computed
// while it was written, or read from the cache metadata), so asking for
// Digest or DiffID costs nothing. Readers verify the bytes against those
// digests at EOF: a cache file damaged on disk fails loudly instead of being
// pushed under a wrong name.
type layer struct {
	open   func() (io.ReadCloser, error) // the compressed bytes
	digest v1.Hash
	diffID v1.Hash
	size   int64
	// from is the repository the layer was streamed to, if it was: a push
	// to another repository of that registry can mount it from there
	// instead of uploading it (see MountFrom).
	from string
}

var _ v1.Layer = (*layer)(nil)

func (l *layer) Digest() (v1.Hash, error) { return l.digest, nil }

// MountFrom names the repository ("registry/path") that received this layer
// when it was made, or "". Stores that can mount blobs across repositories
// look for this method.
func (l *layer) MountFrom() string        { return l.from }
func (l *layer) DiffID() (v1.Hash, error) { return l.diffID, nil }
func (l *layer) Size() (int64, error)     { return l.size, nil }

// MediaType is the OCI one: jbuild writes OCI manifests, and docker and
// containerd read OCI layers in Docker v2 manifests too.
func (l *layer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }

func (l *layer) Compressed() (io.ReadCloser, error) {
	rc, err := l.open()
	if err != nil {
		return nil, err
	}
	return newVerifier(rc, rc, l.digest, "compressed agent layer"), nil
}

func (l *layer) Uncompressed() (io.ReadCloser, error) {
	rc, err := l.open()
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(rc)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("reading the agent layer: %w", err)
	}
	return newVerifier(zr, rc, l.diffID, "uncompressed agent layer"), nil
}

// verifier hashes what passes through and fails the read that reaches EOF
// when the hash differs from want.
type verifier struct {
	r    io.Reader
	c    io.Closer
	h    hash.Hash
	want v1.Hash
	what string
}

func newVerifier(r io.Reader, c io.Closer, want v1.Hash, what string) io.ReadCloser {
	return &verifier{r: r, c: c, h: sha256.New(), want: want, what: what}
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want.Hex {
			return n, fmt.Errorf("%s: content is sha256:%s, expected %s (damaged cache file? remove it and run again)", v.what, got, v.want)
		}
	}
	return n, err
}

func (v *verifier) Close() error { return v.c.Close() }
