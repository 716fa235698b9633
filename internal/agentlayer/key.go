package agentlayer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sync"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// formatVersion is part of every cache key. Bump it whenever the bytes
// writeLayer produces for the same input change (header fields, gzip level,
// ordering), so an old cache entry is never served for the new format.
const formatVersion = "jbuild-agentlayer-v2"

// contentKey identifies the layer that Build would write, without writing
// it: the format version, the epoch, and for every entry its metadata plus
// the digest of its content. For From files the content digest is either
// derived from contentDigest (a digest of everything open can return, e.g.
// agent.Bundle.Digest; then nothing is opened) or computed by reading the
// file. A cache hit therefore never compresses, and with contentDigest set it
// never opens a file either.
func contentKey(entries []buildplan.LayerEntry, open func(string) (io.ReadCloser, error), o Options) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\nepoch %d\ngzip %d\nsource %q\n", formatVersion, o.Epoch.Unix(), gzipLevel, o.ContentDigest)
	for _, e := range entries {
		var sum string
		switch {
		case e.Type != buildplan.TypeFile:
		case e.From == "":
			s := sha256.Sum256(e.Content)
			sum = "content:" + hex.EncodeToString(s[:])
		case o.ContentDigest != "":
			// The source digest covers this file's bytes; its name picks them.
			sum = fmt.Sprintf("from:%q", e.From)
		default:
			s, err := hashFrom(e, open)
			if err != nil {
				return "", err
			}
			sum = "from-sha256:" + s
		}
		fmt.Fprintf(h, "%q %s %o %d %d %d %q %s\n", e.Path, e.Type, uint32(e.Mode), e.UID, e.GID, size(e), e.Link, sum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFrom reads a From file once for its sha256 and checks its size.
func hashFrom(e buildplan.LayerEntry, open func(string) (io.ReadCloser, error)) (string, error) {
	rc, err := openFrom(e, open)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	h := sha256.New()
	if err := copyExact(h, rc, e); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func openFrom(e buildplan.LayerEntry, open func(string) (io.ReadCloser, error)) (io.ReadCloser, error) {
	if open == nil {
		return nil, fmt.Errorf("agent layer entry %q: copies %q from the agent bundle but no bundle was given", e.Path, e.From)
	}
	rc, err := open(e.From)
	if err != nil {
		return nil, fmt.Errorf("agent layer entry %q: opening %q from the agent bundle: %w", e.Path, e.From, err)
	}
	return rc, nil
}

// copyBuffers are copyExact's: large chunks, since each is hashed twice
// side by side (sideBySide) and each handover costs a goroutine switch.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// copyExact copies exactly e.Size bytes and fails, naming the entry, when
// the file is shorter or longer: the tar header has already promised e.Size
// bytes, and a mismatch means the plan was made from a different agent.
func copyExact(w io.Writer, r io.Reader, e buildplan.LayerEntry) error {
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	n, err := io.CopyBuffer(w, io.LimitReader(r, e.Size), *buf)
	if err == nil && n < e.Size {
		return fmt.Errorf("agent layer entry %q: %q has %d bytes but the plan says %d; make the plan again from this agent", e.Path, e.From, n, e.Size)
	}
	if err != nil {
		return fmt.Errorf("agent layer entry %q: reading %q: %w", e.Path, e.From, err)
	}
	var one [1]byte
	if m, _ := io.ReadFull(r, one[:]); m != 0 {
		return fmt.Errorf("agent layer entry %q: %q is larger than the %d bytes the plan says; make the plan again from this agent", e.Path, e.From, e.Size)
	}
	return nil
}
