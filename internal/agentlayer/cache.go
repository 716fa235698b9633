package agentlayer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/internal/atomicfile"
)

// Cache layout, one pair of files per content key in CacheDir:
//
//	<key>.tar.gz  the compressed layer, exactly the bytes pushed
//	<key>.json    {"digest","diffID","size"} so a hit needs no rehashing
//
// A layer that was streamed to a registry as it was made has only its
// .json ("rebuild": true): its bytes are in the registry, and writing them
// to disk as well cost more than anything else jbuild does while the
// upload runs. A hit on such an entry knows the digests without reading a
// byte; if the bytes are needed after all (another repository, a failed
// upload, an OCI layout), the layer is compressed again, which gives the
// same bytes (the layer is deterministic, and reads verify the digest).
//
// Both are written to a temporary name in the same directory and renamed
// into place (internal/atomicfile), the .json last: a reader that finds the .json finds a complete
// .tar.gz, and concurrent builders of the same key just rename identical
// files over each other.

type cacheMeta struct {
	Digest string `json:"digest"`
	DiffID string `json:"diffID"`
	Size   int64  `json:"size"`
	// Rebuild: no .tar.gz was kept; the bytes are made again on demand.
	Rebuild bool `json:"rebuild,omitempty"`
	// Repository the layer was streamed to (layer.from).
	Repository string `json:"repository,omitempty"`
}

// lookup returns the cached layer for key, or nil when there is none (or
// it is unusable, which a rebuild repairs). rebuild makes the bytes of an
// entry kept without them.
func lookup(dir, key string, rebuild func() (io.ReadCloser, error)) *layer {
	if dir == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, key+".json"))
	if err != nil {
		return nil
	}
	var m cacheMeta
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	digest, err1 := v1.NewHash(m.Digest)
	diffID, err2 := v1.NewHash(m.DiffID)
	if m.Rebuild {
		if err1 != nil || err2 != nil || m.Size <= 0 {
			return nil
		}
		return &layer{open: rebuild, digest: digest, diffID: diffID, size: m.Size, from: m.Repository}
	}
	blob := filepath.Join(dir, key+".tar.gz")
	fi, err3 := os.Stat(blob)
	if err1 != nil || err2 != nil || err3 != nil || fi.Size() != m.Size {
		return nil
	}
	return &layer{
		open:   func() (io.ReadCloser, error) { return os.Open(blob) },
		digest: digest,
		diffID: diffID,
		size:   m.Size,
	}
}

// store writes a layer into the cache with write, then records its
// metadata. It returns errCacheUnusable when the directory cannot be used,
// so the caller can fall back to memory.
func store(dir, key string, write func(io.Writer) (digest, diffID v1.Hash, size int64, err error)) (*layer, error) {
	if dir == "" {
		return nil, errCacheUnusable
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, errCacheUnusable
	}
	blob := filepath.Join(dir, key+".tar.gz")
	// Readable by others whatever the umask: a shared CI cache is often
	// used by several users.
	tmp, err := atomicfile.Create(blob, 0o644, atomicfile.ExactPerm(), atomicfile.TempPattern(key+".tar.gz.tmp-*"))
	if err != nil {
		return nil, errCacheUnusable
	}
	defer tmp.Discard() // no-op after the rename
	digest, diffID, size, err := write(tmp)
	if err != nil {
		return nil, err
	}
	if err := tmp.Commit(); err != nil {
		return nil, fmt.Errorf("caching the agent layer in %s: %w", dir, err)
	}
	meta, _ := json.Marshal(cacheMeta{Digest: digest.String(), DiffID: diffID.String(), Size: size})
	if err := writeFileAtomic(filepath.Join(dir, key+".json"), meta); err != nil {
		return nil, fmt.Errorf("caching the agent layer in %s: %w", dir, err)
	}
	return &layer{
		open:   func() (io.ReadCloser, error) { return os.Open(blob) },
		digest: digest,
		diffID: diffID,
		size:   size,
	}, nil
}

// storeMeta records a layer whose bytes are not kept (cacheMeta.Rebuild).
// Best effort: without the record the next run compresses again.
func storeMeta(dir, key string, digest, diffID v1.Hash, size int64, repo string) {
	if dir == "" || os.MkdirAll(dir, 0o755) != nil {
		return
	}
	meta, _ := json.Marshal(cacheMeta{Digest: digest.String(), DiffID: diffID.String(), Size: size, Rebuild: true, Repository: repo})
	writeFileAtomic(filepath.Join(dir, key+".json"), meta)
}

var errCacheUnusable = errors.New("layer cache directory unusable")

func writeFileAtomic(name string, data []byte) error {
	return atomicfile.WriteFile(name, data, 0o644, atomicfile.ExactPerm(), atomicfile.TempPattern(filepath.Base(name)+".tmp-*"))
}
