package imagefs

import (
	"bufio"
	"bytes"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// uncompressed streams layer l's tar. It reads the compressed blob (which
// go-containerregistry checks against its digest at the end, as its own
// Uncompressed does) and decompresses it with klauspost/compress, whose
// gzip reader takes about a quarter less CPU than compress/gzip's on a
// real layer (a JRE and its libraries, 114 MB gzip: 1.67 s against 2.18 s
// here). Reading every layer of a base it has never seen is most of the
// first wrap of that base. Like ggcr, it tells the compression by the
// blob's first bytes, not by the media type, which builders get wrong.
func uncompressed(l v1.Layer) (io.ReadCloser, error) {
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(rc, 64<<10)
	magic, err := br.Peek(4)
	if err != nil && err != io.EOF {
		rc.Close()
		return nil, err
	}
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		zr, err := kgzip.NewReader(br)
		if err != nil {
			rc.Close()
			return nil, err
		}
		return readCloser{Reader: zr, close: func() error { zr.Close(); return rc.Close() }}, nil
	case bytes.HasPrefix(magic, zstdMagic):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			rc.Close()
			return nil, err
		}
		return readCloser{Reader: zr, close: func() error { zr.Close(); return rc.Close() }}, nil
	default: // an uncompressed tar
		return readCloser{Reader: br, close: rc.Close}, nil
	}
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }
