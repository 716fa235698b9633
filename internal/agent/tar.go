package agent

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Tar archives are read from an uncompressed tar file on disk (the user's
// .tar itself, or the cached unpacked form of a .tar.gz or image layer):
// scanTar records where each member's bytes start, and the bundle reads
// them back with a SectionReader, so nothing is extracted into a folder and
// no file mode or owner depends on the local filesystem.

// countingReader tracks the offset in the tar stream. archive/tar reads
// headers in whole blocks and file data straight from the underlying
// reader, so right after Next the count is the data offset.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// scanTar checks and indexes a tar stream. Members' bytes are read (to hash
// them) but not kept: data, the uncompressed tar file they are read back
// from, must hold the same stream at the same offsets.
func scanTar(ctx context.Context, r io.Reader, data io.ReaderAt, archive string, opts Options) ([]*entry, error) {
	cr := &countingReader{r: r}
	tr := tar.NewReader(cr)
	lim := newLimits(archive, opts)
	var out []*entry
	last := ""
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			// ErrInsecurePath comes with the header: cleanName below refuses
			// the member and names it. Other errors come before the header
			// is known (a PAX record over archive/tar's 1 MiB limit, a
			// truncated file): name the entry by position.
			where := "entry #1"
			if last != "" {
				where = fmt.Sprintf("entry #%d (after %q)", n, last)
			}
			return nil, fmt.Errorf("reading agent archive %s: %s: %w (truncated, over-long headers, or not a tar?)", archive, where, err)
		}
		last = hdr.Name
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			continue // pax global header: metadata for the archive, not a file
		}
		if err := lim.add(hdr.Name, hdr.Size); err != nil {
			return nil, err
		}
		name, err := cleanName(archive, hdr.Name)
		if err != nil {
			return nil, err
		}
		mode := hdr.FileInfo().Mode()
		if err := checkMode(archive, hdr.Name, mode); err != nil {
			return nil, err
		}
		for k := range hdr.PAXRecords {
			if strings.HasPrefix(k, "GNU.sparse.") {
				return nil, fmt.Errorf("reading agent archive %s: entry %q: sparse files are not supported; repack the agent with a plain tar", archive, hdr.Name)
			}
		}
		e := &entry{name: name, mode: mode.Type() | mode.Perm()}
		switch hdr.Typeflag {
		case tar.TypeDir:
		case tar.TypeSymlink:
			e.link = hdr.Linkname
		case tar.TypeLink:
			// Resolved against the other members in assemble, where a target
			// outside the agent folder is refused.
			if e.hardlink, err = cleanName(archive, hdr.Linkname); err != nil || e.hardlink == "" {
				return nil, fmt.Errorf("reading agent archive %s: entry %q: hard link to %q points outside the agent folder", archive, hdr.Name, hdr.Linkname)
			}
			e.mode = mode.Perm()
		case tar.TypeReg:
			off, size := cr.n, hdr.Size
			h := sha256.New()
			if _, err := io.Copy(h, tr); err != nil {
				return nil, fmt.Errorf("reading agent archive %s: entry %q: %w", archive, hdr.Name, err)
			}
			copy(e.sum[:], h.Sum(nil))
			e.size = size
			e.open = func() (io.ReadCloser, error) {
				return io.NopCloser(io.NewSectionReader(data, off, size)), nil
			}
		case tar.TypeGNUSparse:
			return nil, fmt.Errorf("reading agent archive %s: entry %q: sparse files are not supported; repack the agent with a plain tar", archive, hdr.Name)
		default:
			return nil, fmt.Errorf("reading agent archive %s: entry %q: unsupported tar entry type %q", archive, hdr.Name, hdr.Typeflag)
		}
		if name == "" {
			if !mode.IsDir() {
				return nil, fmt.Errorf("reading agent archive %s: entry %q: the archive root is not a folder", archive, hdr.Name)
			}
			continue
		}
		out = append(out, e)
	}
}

// readTarFile scans an uncompressed tar file in place; f stays open for the
// bundle's lifetime.
func readTarFile(ctx context.Context, f *os.File, archive string, opts Options) ([]*entry, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return scanTar(ctx, f, f, archive, opts)
}

// unpackTar writes the uncompressed tar stream r to dest (a cache path) and
// returns it opened, scanning it on the way so a hostile archive is refused
// before anything is in the cache: the stream goes to a temporary file that
// is renamed to dest only when the whole archive passed scanTar and accept
// (the checks across members, see assemble).
func unpackTar(ctx context.Context, r io.Reader, dest, archive string, opts Options, accept func([]*entry) error) (*os.File, []*entry, error) {
	tmp, err := createTemp(dest)
	if err != nil {
		return nil, nil, err
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	entries, err := scanTar(ctx, io.TeeReader(r, tmp), tmp, archive, opts)
	if err != nil {
		return nil, nil, err
	}
	// Drain what follows the tar trailer, so a compressed stream's checksum
	// is verified, but with a bound: past the trailer is only padding.
	if _, err := io.Copy(io.Discard, io.LimitReader(r, 1<<20)); err != nil {
		return nil, nil, fmt.Errorf("reading agent archive %s: %w", archive, err)
	}
	if err := accept(entries); err != nil {
		return nil, nil, err
	}
	if err := tmp.Sync(); err != nil {
		return nil, nil, err
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return nil, nil, fmt.Errorf("caching agent archive %s: %w", archive, err)
	}
	keep = true
	trimCache(opts, dest)
	return tmp, entries, nil
}
