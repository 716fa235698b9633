package agent

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"strings"
)

// readZip reads a zip in place: archive/zip gives random access to members,
// so nothing is unpacked to disk and the bundle reads from the zip itself.
// f (the archive file) stays open for the bundle's lifetime.
func readZip(ctx context.Context, f io.ReaderAt, size int64, archive string, opts Options) ([]*entry, error) {
	zr, err := zip.NewReader(f, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// ErrInsecurePath still returns a usable reader: our own checks below
		// refuse the member and name it, which Go's error does not.
		return nil, fmt.Errorf("reading agent archive %s: %w", archive, err)
	}
	lim := newLimits(archive, opts)
	var out []*entry
	for _, zf := range zr.File {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := lim.add(zf.Name, int64(min(zf.UncompressedSize64, 1<<62))); err != nil {
			return nil, err
		}
		name, err := cleanName(archive, zf.Name)
		if err != nil {
			return nil, err
		}
		if err := checkLocalHeader(f, zf); err != nil {
			return nil, fmt.Errorf("reading agent archive %s: entry %q: %w; the archive is ambiguous, get a fresh copy of the agent", archive, zf.Name, err)
		}
		mode := zf.Mode()
		if strings.HasSuffix(zf.Name, "/") {
			mode = fs.ModeDir | mode.Perm()
		}
		if err := checkMode(archive, zf.Name, mode); err != nil {
			return nil, err
		}
		if name == "" {
			continue // the archive's own root
		}
		e := &entry{name: name, mode: mode.Type() | mode.Perm()}
		switch {
		case mode.IsDir():
		case mode&fs.ModeSymlink != 0:
			// A zip symlink stores its target as the member's content.
			target, err := readAllLimit(zf, 4096)
			if err != nil {
				return nil, fmt.Errorf("reading agent archive %s: entry %q: %w", archive, zf.Name, err)
			}
			e.link = string(target)
		case mode.IsRegular():
			zf := zf
			e.size = int64(zf.UncompressedSize64)
			e.open = zf.Open
			if e.sum, err = hashZipFile(zf); err != nil {
				return nil, fmt.Errorf("reading agent archive %s: entry %q: %w", archive, zf.Name, err)
			}
		default:
			return nil, fmt.Errorf("reading agent archive %s: entry %q: unsupported file type %v", archive, zf.Name, mode.Type())
		}
		out = append(out, e)
	}
	return out, nil
}

// hashZipFile reads a member fully. The declared size is what the limits
// counted, so a member that inflates past it is an attack, not a bug:
// archive/zip already fails such reads, and the LimitReader makes sure.
func hashZipFile(zf *zip.File) ([32]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return [32]byte{}, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(rc, int64(zf.UncompressedSize64)+1))
	if err != nil {
		return [32]byte{}, err
	}
	if uint64(n) != zf.UncompressedSize64 {
		return [32]byte{}, fmt.Errorf("content is %d bytes but the archive declares %d", n, zf.UncompressedSize64)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s, nil
}

func readAllLimit(zf *zip.File, limit int64) ([]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("symlink target longer than %d bytes", limit)
	}
	return b, err
}

// checkLocalHeader compares a member's local file header with its central
// directory entry. archive/zip trusts the central directory, but unzip and
// streaming extractors read the local headers: an archive whose two
// headers name different files ("agent.java/x.jar" in one,
// "../../etc/cron.d/x" in the other) unpacks differently depending on the
// tool, so it is refused rather than read one way.
func checkLocalHeader(r io.ReaderAt, zf *zip.File) error {
	const fixed = 30 // local header size without name and extra field
	off, ok := localHeaderOffset(zf)
	if !ok {
		return nil // not knowable with this Go version; archive/zip's reading stands
	}
	var hdr [fixed]byte
	if _, err := r.ReadAt(hdr[:], off); err != nil {
		return fmt.Errorf("local file header: %w", err)
	}
	if string(hdr[:4]) != "PK\x03\x04" {
		return fmt.Errorf("no local file header where the central directory says")
	}
	name := make([]byte, binary.LittleEndian.Uint16(hdr[26:]))
	if _, err := r.ReadAt(name, off+fixed); err != nil {
		return fmt.Errorf("local file header: %w", err)
	}
	if string(name) != zf.Name {
		return fmt.Errorf("the local file header names it %q (unzip would write that file)", name)
	}
	return nil
}

// localHeaderOffset reads archive/zip's unexported record of where the
// member's local header starts (the central directory's "relative offset of
// local header"). Reading an unexported field through reflect is allowed;
// if a Go release renames it, the check is skipped rather than guessed.
func localHeaderOffset(zf *zip.File) (int64, bool) {
	f := reflect.ValueOf(zf).Elem().FieldByName("headerOffset")
	if !f.IsValid() || f.Kind() != reflect.Int64 {
		return 0, false
	}
	return f.Int(), true
}
