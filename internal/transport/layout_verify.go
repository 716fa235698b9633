package transport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// An OCI layout or oci-archive is a file anyone can hand over, and unlike a
// registry nothing checks it on the way in: go-containerregistry's layout
// reader reads blobs by the digest they are claimed to have without
// hashing them, and its writer skips a blob that exists with the right
// size. A tampered layer would be copied into the wrapped image under a
// digest it does not have, or cached as a trusted agent layer. So before an
// image of a layout is used, every blob it reaches is checked against its
// descriptor: digest and size.

// layoutVerifier remembers the blobs of one layout already checked.
type layoutVerifier struct {
	mu sync.Mutex
	ok map[v1.Hash]bool
}

// checkIndexJSON refuses an index.json whose descriptors are not plain
// digests before go-containerregistry turns them into paths: a digest is
// the only thing that names a file under blobs/.
func checkIndexJSON(dir string) error {
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return err
	}
	var idx struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		return fmt.Errorf("index.json: %w", err)
	}
	for i, m := range idx.Manifests {
		if _, err := v1.NewHash(m.Digest); err != nil {
			return fmt.Errorf("index.json manifests[%d]: digest %q is not a sha256 digest (%v); a layout names blobs by digest only, never by path", i, m.Digest, err)
		}
	}
	return nil
}

// verify checks the blob of d and, for an index or a manifest, every blob
// it references.
func (v *layoutVerifier) verify(dir string, d v1.Descriptor, what string) error {
	v.mu.Lock()
	done := v.ok[d.Digest]
	v.mu.Unlock()
	if done {
		return nil
	}
	switch {
	case d.MediaType.IsIndex():
		raw, err := readBlobChecked(dir, d, what)
		if err != nil {
			return err
		}
		im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		for i, m := range im.Manifests {
			if err := v.verify(dir, m, fmt.Sprintf("%s manifests[%d] (%s)", what, i, m.Digest)); err != nil {
				return err
			}
		}
	case d.MediaType.IsImage():
		raw, err := readBlobChecked(dir, d, what)
		if err != nil {
			return err
		}
		m, err := v1.ParseManifest(bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := checkConfigSize(what, m.Config.Size); err != nil {
			return err
		}
		if err := checkBlob(dir, m.Config, what+" config"); err != nil {
			return err
		}
		for i, l := range m.Layers {
			if err := checkBlob(dir, l, fmt.Sprintf("%s layer %d (%s)", what, i, l.Digest)); err != nil {
				return err
			}
		}
	default:
		// Attestations and other artifacts are copied as they are; their
		// blobs are checked like any other.
		if err := checkBlob(dir, d, what); err != nil {
			return err
		}
	}
	v.mu.Lock()
	if v.ok == nil {
		v.ok = map[v1.Hash]bool{}
	}
	v.ok[d.Digest] = true
	v.mu.Unlock()
	return nil
}

func blobPath(dir string, h v1.Hash) string {
	return filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
}

// readBlobChecked reads a small blob (an index or manifest) and checks it.
func readBlobChecked(dir string, d v1.Descriptor, what string) ([]byte, error) {
	if d.Size > 4<<20 || d.Size < 0 {
		return nil, fmt.Errorf("%s: %s is %d bytes; an index or manifest is at most 4 MiB", what, d.Digest, d.Size)
	}
	f, err := openBlob(dir, d.Digest, what)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, d.Size+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := matches(d, int64(len(raw)), raw, what); err != nil {
		return nil, err
	}
	return raw, nil
}

// checkBlob hashes a blob of any size against its descriptor.
func checkBlob(dir string, d v1.Descriptor, what string) error {
	f, err := openBlob(dir, d.Digest, what)
	if err != nil {
		return err
	}
	defer f.Close()
	h, err := v1.Hasher(d.Digest.Algorithm)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := io.Copy(h, io.LimitReader(f, d.Size+1))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n != d.Size {
		return fmt.Errorf("%s: blob %s is %d bytes, the descriptor says %d: the layout is corrupt or was tampered with", what, d.Digest, n, d.Size)
	}
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != d.Digest.Hex {
		return fmt.Errorf("%s: blob %s has digest %s:%s: the layout is corrupt or was tampered with; refusing to use it", what, d.Digest, d.Digest.Algorithm, got)
	}
	return nil
}

func matches(d v1.Descriptor, n int64, raw []byte, what string) error {
	if n != d.Size {
		return fmt.Errorf("%s: blob %s is %d bytes, the descriptor says %d: the layout is corrupt or was tampered with", what, d.Digest, n, d.Size)
	}
	h, err := v1.Hasher(d.Digest.Algorithm)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	h.Write(raw)
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != d.Digest.Hex {
		return fmt.Errorf("%s: blob %s has digest %s:%s: the layout is corrupt or was tampered with; refusing to use it", what, d.Digest, d.Digest.Algorithm, got)
	}
	return nil
}

// openBlob opens a regular file under blobs/ (never a symlink, which could
// point anywhere on the machine).
func openBlob(dir string, h v1.Hash, what string) (*os.File, error) {
	p := blobPath(dir, h)
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, fmt.Errorf("%s: blob %s: %w", what, h, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: blob %s is not a regular file (%v)", what, h, fi.Mode().Type())
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("%s: blob %s: %w", what, h, err)
	}
	return f, nil
}
