package agentlayer

import (
	"io"

	"fmt"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Options tune Build. The zero value is ready to use.
type Options struct {
	// Epoch is the modification time written into every tar header. Zero
	// means "from SOURCE_DATE_EPOCH when set, else the Unix epoch" (see
	// EpochFromEnv): a fixed time, never the build time, so the same agent
	// gives the same digest on every run and machine. It is truncated to
	// whole seconds, the resolution of a USTAR header.
	Epoch time.Time
	// CacheDir holds compressed layers by content key. Empty means
	// $XDG_CACHE_HOME/jbuild/layers (else ~/.cache/jbuild/layers). When the
	// directory cannot be created or written, Build still works but keeps the
	// layer in memory and compresses again next time.
	CacheDir string
	// CacheMax bounds the cache directory in bytes: after a new layer is
	// written, the least recently used layers are removed until it fits. 0
	// means DefaultCacheMax; negative means no bound.
	CacheMax int64
	// ContentDigest, when set, is a digest of everything open can return
	// (agent.Bundle.Digest). It stands in for the per-file content digests
	// in the cache key, so a cache hit opens no file at all. Empty means
	// each From file is read once to hash it before the cache is consulted.
	// A wrong value serves a stale layer: pass only a digest that really
	// covers the files.
	ContentDigest string
	// Upload, when set, starts an upload that receives the compressed layer
	// while Build writes it (a registry blob upload), so compressing and
	// uploading overlap instead of running one after the other. It is only
	// called when the layer is not cached. An upload that fails is
	// abandoned without failing Build: the caller's push then uploads the
	// finished layer the ordinary way. sizeHint is the size of the
	// entries' contents, before compression (transport.BlobStreamer).
	Upload func(sizeHint int64) (Upload, error)
}

// Upload is a blob upload in progress. One that also has a Repository()
// string method names where the blob goes; the layer then offers it for
// cross-repository mounts (layer.MountFrom).
type Upload interface {
	io.Writer
	// Finish completes the upload under the digest of what was written.
	// It may return before the upload has ended (the registry's
	// confirmation then overlaps the caller's next steps); its owner
	// handles a failure (transport.BlobUpload.Finish).
	Finish(digest v1.Hash)
	// Abort gives the upload up.
	Abort()
}

// EpochFromEnv returns the time named by SOURCE_DATE_EPOCH (whole seconds
// since 1970-01-01 UTC, as https://reproducible-builds.org/specs/source-date-epoch/
// defines it), or time.Unix(0, 0) when the variable is unset or empty.
func EpochFromEnv() (time.Time, error) {
	v := strings.TrimSpace(os.Getenv("SOURCE_DATE_EPOCH"))
	if v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a whole, non-negative number of seconds since 1970-01-01 UTC (for example %d); fix it or unset it to use the fixed default epoch", v, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	}
	return time.Unix(secs, 0).UTC(), nil
}

// resolve fills the defaults of opts.
func (opts Options) resolve() (Options, error) {
	if opts.Epoch.IsZero() {
		e, err := EpochFromEnv()
		if err != nil {
			return opts, err
		}
		opts.Epoch = e
	}
	// USTAR stores whole seconds; a fractional time would force a PAX record
	// on every entry for no benefit.
	opts.Epoch = opts.Epoch.Truncate(time.Second).UTC()
	if opts.CacheMax == 0 {
		opts.CacheMax = DefaultCacheMax
	}
	if opts.CacheDir == "" {
		base, err := os.UserCacheDir() // $XDG_CACHE_HOME, else ~/.cache
		if err == nil {
			opts.CacheDir = filepath.Join(base, "jbuild", "layers")
		}
		// No usable home: leave it empty, Build then keeps the layer in memory.
	}
	return opts, nil
}
