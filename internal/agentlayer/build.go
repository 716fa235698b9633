package agentlayer

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/keylock"
)

// Build writes entries (a Plan's Layer, in the plan's order) as a
// deterministic gzip-compressed tar layer with the OCI layer media type.
// open reads a From file of the agent bundle (agent.Bundle.Open); it may be
// nil when no entry has From. Exactly the given entries are written:
// parents such as /opt are not added, so the image's own directories keep
// their owner and mode.
//
// The result is cached in opts.CacheDir by a content key over the entries'
// metadata, their contents and the epoch; a later Build with the same key
// returns the cached file without compressing (see Options.ContentDigest
// for building without even opening the files). A layer streamed to
// opts.Upload is cached by its digests only (see cache.go).
func Build(entries []buildplan.LayerEntry, open func(rel string) (io.ReadCloser, error), opts Options) (v1.Layer, error) {
	opts, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if err := checkEntries(entries); err != nil {
		return nil, err
	}
	key, err := contentKey(entries, open, opts)
	if err != nil {
		return nil, err
	}
	rebuild := func() (io.ReadCloser, error) { return compressAgain(entries, open, opts.Epoch), nil }
	// `wrap -f` wraps several images at once, and images that share an
	// agent share its layer: the first Build compresses (and uploads) it,
	// the others wait and then find it in the cache.
	defer building.Lock(opts.CacheDir + "\x00" + key)()
	if l := lookup(opts.CacheDir, key, rebuild); l != nil {
		touch(opts.CacheDir, key)
		return l, nil
	}
	if opts.Upload != nil {
		return buildStreamed(entries, open, opts, key, rebuild)
	}
	write := func(w io.Writer) (digest, diffID v1.Hash, size int64, err error) {
		zh, th := sha256.New(), sha256.New()
		cw := &countingWriter{w: io.MultiWriter(w, zh)}
		if err := writeLayer(cw, th, entries, open, opts.Epoch); err != nil {
			return v1.Hash{}, v1.Hash{}, 0, err
		}
		return sum(zh), sum(th), cw.n, nil
	}
	l, err := store(opts.CacheDir, key, write)
	if err == nil {
		trim(opts.CacheDir, key, opts.CacheMax)
	}
	if !errors.Is(err, errCacheUnusable) {
		return l, err
	}
	// No cache directory to write: keep the layer in memory. Agents are tens
	// of megabytes, and the next run just compresses again.
	var buf bytes.Buffer
	digest, diffID, size, err := write(&buf)
	if err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return &layer{
		open:   func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		digest: digest,
		diffID: diffID,
		size:   size,
	}, nil
}

var building keylock.Locks

func sum(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h.Sum(nil))}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
