package agentlayer

import (
	"crypto/sha256"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// buildStreamed makes a layer whose bytes go to opts.Upload as they are
// compressed and nowhere else: the cache records its digests only, and the
// returned layer compresses again if its bytes are read (rebuild). Writing
// the 20 MB to disk as well was the largest cost of a wrap beside the
// upload, and on a registry target the bytes are rarely needed again.
func buildStreamed(entries []buildplan.LayerEntry, open func(string) (io.ReadCloser, error), opts Options, key string, rebuild func() (io.ReadCloser, error)) (v1.Layer, error) {
	up := startUpload(opts.Upload, contentSize(entries))
	zh, th := sha256.New(), sha256.New()
	cw := &countingWriter{w: io.MultiWriter(zh, up)}
	if err := writeLayer(cw, th, entries, open, opts.Epoch); err != nil {
		up.abort()
		return nil, err
	}
	digest, diffID := sum(zh), sum(th)
	repo := up.repository()
	up.commit(digest)
	// A record is a few hundred bytes: no need to trim the cache for it
	// (listing a large cache costs more than the record).
	storeMeta(opts.CacheDir, key, digest, diffID, cw.n, repo)
	return &layer{open: rebuild, digest: digest, diffID: diffID, size: cw.n, from: repo}, nil
}

// compressAgain streams the layer's compressed bytes once more; the
// reader's verifier (layer.Compressed) checks they are the same.
func compressAgain(entries []buildplan.LayerEntry, open func(string) (io.ReadCloser, error), epoch time.Time) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeLayer(pw, io.Discard, entries, open, epoch))
	}()
	return pr
}

// contentSize is what the entries hold, before compression.
func contentSize(entries []buildplan.LayerEntry) int64 {
	var n int64
	for _, e := range entries {
		n += max(e.Size, int64(len(e.Content))) // Size is set for both kinds
	}
	return n
}
