package agent

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
)

type archiveKind int

const (
	kindUnknown archiveKind = iota
	kindZip
	kindGzip
	kindTar
)

// sniff tells the archive format from its first bytes: the view server
// serves a zip from a URL without an extension, and a file's name is only
// a hint anyway.
func sniff(head []byte) archiveKind {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return kindZip
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return kindGzip
	case len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar")):
		return kindTar
	}
	return kindUnknown
}

// openArchiveFile reads the agent archive at file (named archive in
// messages and source in the bundle).
func openArchiveFile(ctx context.Context, file, source string, opts Options) (*Bundle, error) {
	return openArchive(ctx, file, source, "", opts)
}

// openArchive is openArchiveFile with the version, when the caller knows it.
func openArchive(ctx context.Context, file, source, version string, opts Options) (*Bundle, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading agent archive %s: %w", source, err)
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	var raw []*entry
	switch sniff(head[:n]) {
	case kindZip:
		raw, err = readZip(ctx, f, fi.Size(), source, opts)
		keep = err == nil // the bundle reads members from the zip
	case kindTar:
		raw, err = readTarFile(ctx, f, source, opts)
		keep = err == nil
	case kindGzip:
		raw, err = readTarGz(ctx, f, source, opts, func(raw []*entry) error {
			_, _, err := assemble(source, raw, "", true, opts.BundleRoot)
			return err
		})
	default:
		return nil, fmt.Errorf("reading agent archive %s: not a zip, tar.gz or tar archive (starts with %q); pass the agent folder, the view server's zip, or an agent image", source, head[:min(n, 8)])
	}
	if err != nil {
		return nil, err
	}
	files, root, err := assemble(source, raw, "", true, opts.BundleRoot)
	if err != nil {
		return nil, err
	}
	return newBundle(source, root, version, files), nil
}

// readTarGz reads a gzip-compressed tar through the cache: the first time
// it is unpacked (checked on the way) to agent-tars/<sha256>.tar, later
// runs read that file.
func readTarGz(ctx context.Context, f *os.File, archive string, opts Options, accept func([]*entry) error) ([]*entry, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("reading agent archive %s: %w", archive, err)
	}
	dest := cachePath(opts, "agent-tars", fmt.Sprintf("%x.tar", h.Sum(nil)))
	if t, err := os.Open(dest); err == nil {
		touch(dest)
		entries, err := readTarFile(ctx, t, archive, opts)
		if err != nil {
			t.Close()
		}
		return entries, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("reading agent archive %s: %w", archive, err)
	}
	_, entries, err := unpackTar(ctx, zr, dest, archive, opts, accept)
	return entries, err
}
