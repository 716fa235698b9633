package agentlayer

import (
	"archive/tar"
	"fmt"
	"github.com/klauspost/compress/gzip"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// gzipLevel is fixed: the compressed bytes (and so the layer digest) depend
// on it. BestSpeed, as ggcr's tarball package and crane use: agents are
// mostly jars, already deflated, so higher levels shrink the layer by a few
// percent while taking several times longer, and the first wrap pays that
// time. The compressor is klauspost/compress's gzip, pinned in go.mod: about
// 1.5x faster than the standard library's at this level (the compression
// competes for the CPU with the registry receiving the upload), and, like
// it, deterministic for a given version. Changing the version or the level
// changes layer digests, so both are part of the cache key (formatVersion).
const gzipLevel = gzip.BestSpeed

// writeLayer writes the entries as a gzip-compressed tar to w and the same
// tar, uncompressed, to diff (for the DiffID). Every choice below is about
// producing the same bytes for the same input, in the spirit of ko's
// tarBinary:
//
//   - Entries are written in the order given. The plan sorts them (parents
//     before children); re-sorting here would hide a plan bug and make the
//     two engines disagree.
//   - Names have no leading "/" ("opt/jennifer/agent.java/jennifer.jar") as
//     docker and BuildKit write them, and directories end in "/".
//   - ModTime is the fixed epoch; AccessTime and ChangeTime stay zero so no
//     PAX atime/ctime records appear.
//   - Uname and Gname are empty: only the numeric owner from the plan counts,
//     and names would depend on the build machine's /etc/passwd.
//   - Format is PAX, which Go's writer treats as "USTAR when the header fits,
//     a PAX record only for what USTAR cannot hold" (names over 100/155 bytes,
//     ids over 2097151, non-ASCII names). The choice depends only on the entry
//     itself, never on the machine, and GNU extensions (not in the OCI layer
//     spec) are never used.
//   - The gzip header has no name, no comment and a zero mtime, and the level
//     is the constant gzipLevel. Go writes OS=unknown (255) on every platform.
//     The compressed bytes depend on the compressor (see gzipLevel), so the
//     layer digest is stable for a given jbuild build; the DiffID depends
//     only on the tar.
func writeLayer(w, diff io.Writer, entries []buildplan.LayerEntry, open func(string) (io.ReadCloser, error), epoch time.Time) error {
	zw, err := gzip.NewWriterLevel(w, gzipLevel)
	if err != nil {
		return err
	}
	// MTIME 0 means "no time stamp" (RFC 1952). Set explicitly: unlike the
	// standard library, klauspost's writer stores a zero time.Time as a
	// wrapped 32-bit value instead of 0.
	zw.ModTime = time.Unix(0, 0)
	both, stop := sideBySide(zw, diff)
	defer stop()
	tw := tar.NewWriter(both)
	for _, e := range entries {
		if err := writeEntry(tw, e, open, epoch); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("finishing the agent layer tar: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("compressing the agent layer: %w", err)
	}
	return nil
}

func writeEntry(tw *tar.Writer, e buildplan.LayerEntry, open func(string) (io.ReadCloser, error), epoch time.Time) error {
	hdr := &tar.Header{
		Name:    strings.TrimPrefix(e.Path, "/"),
		Mode:    tarMode(e.Mode),
		Uid:     e.UID,
		Gid:     e.GID,
		ModTime: epoch,
		Format:  tar.FormatPAX,
	}
	switch e.Type {
	case buildplan.TypeDir:
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
	case buildplan.TypeSymlink:
		hdr.Typeflag = tar.TypeSymlink
		hdr.Linkname = e.Link
	case buildplan.TypeFile:
		hdr.Typeflag = tar.TypeReg
		hdr.Size = size(e)
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("agent layer entry %q: writing tar header: %w", e.Path, err)
	}
	if e.Type != buildplan.TypeFile {
		return nil
	}
	if e.From == "" {
		if _, err := tw.Write(e.Content); err != nil {
			return fmt.Errorf("agent layer entry %q: %w", e.Path, err)
		}
		return nil
	}
	rc, err := openFrom(e, open)
	if err != nil {
		return err
	}
	defer rc.Close()
	return copyExact(tw, rc, e)
}

// tarMode maps permission and special bits to the tar mode field (c_ISUID
// and friends); type bits are never set there, the typeflag carries the type.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return mode
}
