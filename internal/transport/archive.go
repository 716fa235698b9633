package transport

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/internal/atomicfile"
)

// KindOCIArchive is a tar of an OCI image layout (oci-archive:FILE[:TAG]).
const KindOCIArchive Kind = "oci-archive"

var archiveKind = storeKind{
	KindInfo: KindInfo{
		Kind: KindOCIArchive, Form: "oci-archive:FILE[:TAG]", Help: "a tar of an OCI image layout",
		Examples: []string{"oci-archive:app.tar:1.2", "oci-archive:/srv/images/app.tar"},
	},
	refs: pathRefs{},
	open: func(r Ref, _ Options) (Store, error) { return &archiveStore{ref: r}, nil },
}

// maxArchiveEntries bounds what an oci-archive may hold: a layout has one
// file per blob plus two, so this is far beyond any real image.
const maxArchiveEntries = 100000

// archiveStore is a tar of an OCI layout (`oci-archive:FILE[:TAG]`), as
// skopeo and buildctl's oci exporter write it. It is unpacked into a temp
// directory and handled as a layout; writes repack the whole layout into a
// temp file next to FILE and rename it over FILE.
type archiveStore struct {
	ref      Ref
	tmp      string // extracted layout, created on first use
	verified layoutVerifier
}

func (s *archiveStore) Ref() Ref { return s.ref }

func (s *archiveStore) Close() error {
	if s.tmp == "" {
		return nil
	}
	err := os.RemoveAll(s.tmp)
	s.tmp = ""
	return err
}

// layout extracts the archive (if it exists) and returns a layout store over it.
func (s *archiveStore) layout(create bool) (*layoutStore, error) {
	if s.tmp == "" {
		tmp, err := os.MkdirTemp("", "jbuild-oci-archive-")
		if err != nil {
			return nil, err
		}
		if err := extractArchive(s.ref, tmp, create); err != nil {
			// Drop what was extracted so far: a later call must read the
			// archive again (and fail again), never use half of it.
			os.RemoveAll(tmp)
			return nil, err
		}
		s.tmp = tmp
	}
	return &layoutStore{ref: s.ref, dir: s.tmp, verified: &s.verified}, nil
}

// extractArchive unpacks ref's archive into tmp; a missing archive is an
// empty layout when create is set, else ErrNotFound.
func extractArchive(ref Ref, tmp string, create bool) error {
	f, err := os.Open(ref.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("reading %s: %s does not exist: %w", ref, ref.Path, ErrNotFound)
	case err != nil:
		return fmt.Errorf("reading %s: %w", ref, err)
	}
	defer f.Close()
	if err := untarLayout(f, tmp); err != nil {
		return fmt.Errorf("reading %s: %w", ref, err)
	}
	return nil
}

func (s *archiveStore) Get(ctx context.Context) (*Artifact, error) {
	l, err := s.layout(false)
	if err != nil {
		return nil, err
	}
	return l.Get(ctx)
}

func (s *archiveStore) GetDigest(ctx context.Context, h v1.Hash) (*Artifact, error) {
	l, err := s.layout(false)
	if err != nil {
		return nil, err
	}
	return l.GetDigest(ctx, h)
}

func (s *archiveStore) Put(ctx context.Context, a *Artifact, keep ...*Artifact) error {
	l, err := s.layout(true)
	if err != nil {
		return err
	}
	if err := l.Put(ctx, a, keep...); err != nil {
		return err
	}
	if err := tarLayoutAtomically(l.dir, s.ref.Path); err != nil {
		return fmt.Errorf("writing %s: %w", s.ref, err)
	}
	return nil
}

// untarLayout extracts an OCI layout archive. Only the files a layout has
// are accepted (oci-layout, index.json, blobs/ALG/HEX); anything else, and
// any name that could escape dir, is an error naming the entry.
func untarLayout(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	n := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading archive: %w", err)
		}
		if n++; n > maxArchiveEntries {
			return fmt.Errorf("archive has more than %d entries", maxArchiveEntries)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if name == "." {
			continue
		}
		if !validLayoutName(name) {
			return fmt.Errorf("archive entry %q is not part of an OCI layout", h.Name)
		}
		for k := range h.PAXRecords {
			// archive/tar expands PAX sparse files itself: a few bytes of
			// map would write gigabytes of zeros into the temp directory.
			if strings.HasPrefix(k, "GNU.sparse.") {
				return fmt.Errorf("archive entry %q: sparse files are not allowed in an OCI layout archive", h.Name)
			}
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return fmt.Errorf("archive entry %q: %w", h.Name, err)
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("archive entry %q: %w", h.Name, err)
			}
		default:
			return fmt.Errorf("archive entry %q: type %q is not allowed in an OCI layout archive", h.Name, h.Typeflag)
		}
	}
}

func validLayoutName(name string) bool {
	switch name {
	case "oci-layout", "index.json", "blobs":
		return true
	}
	parts := strings.Split(name, "/")
	if parts[0] != "blobs" || len(parts) > 3 {
		return false
	}
	for _, p := range parts {
		if p == ".." || p == "" {
			return false
		}
	}
	return true
}

// tarLayoutAtomically packs dir into a temp file beside dst and renames it
// over dst. Entries are sorted and carry no timestamps or owners so the same
// layout gives the same archive bytes.
func tarLayoutAtomically(dir, dst string) error {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	return atomicfile.Write(dst, 0o644, func(w io.Writer) error {
		tw := tar.NewWriter(w)
		for _, rel := range files {
			if err := addFile(tw, dir, rel); err != nil {
				return err
			}
		}
		return tw.Close()
	})
}

func addFile(tw *tar.Writer, dir, rel string) error {
	f, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: rel, Mode: 0o644, Size: st.Size(), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}
