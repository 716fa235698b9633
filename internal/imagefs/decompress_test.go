package imagefs

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestLayerCompressions: gzip, zstd and uncompressed blobs are all read,
// told apart by their first bytes (a zstd blob labelled gzip included), and
// a gzip blob whose end was damaged is an error (its gzip checksum; a
// registry's blob is also checked against its digest by ggcr).
func TestLayerCompressions(t *testing.T) {
	data := tarBytes(t, []ent{file("etc/passwd", "app:x:1000:1000::/home/app:/bin/sh\n")})
	opener := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	zstdLayer, err := tarball.LayerFromOpener(opener, tarball.WithCompression(compression.ZStd), tarball.WithMediaType(types.DockerLayer))
	if err != nil {
		t.Fatal(err)
	}
	gzipLayer, err := tarball.LayerFromOpener(opener)
	if err != nil {
		t.Fatal(err)
	}
	for name, l := range map[string]v1.Layer{
		"gzip":                    gzipLayer,
		"zstd with a gzip type":   zstdLayer,
		"uncompressed":            static.NewLayer(data, types.OCIUncompressedLayer),
		"uncompressed, gzip type": static.NewLayer(data, types.OCILayer),
	} {
		f := New(imageOf(t, l), "img", keep)
		b, err := f.ReadFile("/etc/passwd", -1)
		if err != nil || !strings.HasPrefix(string(b), "app:x:1000") {
			t.Errorf("%s: ReadFile = %q, %v", name, b, err)
		}
	}

	// The gzip bytes of gzipLayer, damaged, under its digest.
	rc, err := gzipLayer.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	blob, _ := io.ReadAll(rc)
	damaged := damagedLayer{Layer: gzipLayer, blob: append(bytes.Clone(blob[:len(blob)-8]), make([]byte, 8)...)}
	if _, err := New(imageOf(t, damaged), "img", keep).ReadFile("/etc/passwd", -1); err == nil {
		t.Error("a gzip blob with damaged bytes was read without an error")
	}
}

// damagedLayer serves other bytes than its digest names, as a registry
// whose storage went bad would.
type damagedLayer struct {
	v1.Layer
	blob []byte
}

func (d damagedLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(d.blob)), nil
}
