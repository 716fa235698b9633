package imagefs

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/buildplan"

	"github.com/jbuild-dev/jbuild/internal/rootpath"
)

// maxContent bounds a file whose content is kept: detection reads small
// text files (/etc/passwd, /etc/os-release), never binaries.
const maxContent = 1 << 20

// maxSymlinkHops mirrors the kernel's ELOOP limit.
const maxSymlinkHops = rootpath.MaxHops

// FS is the lazily scanned filesystem of one image.
type FS struct {
	img         v1.Image
	keepContent []string // path.Match patterns
	name        string

	once     sync.Once
	err      error
	entries  map[string]*entry
	children map[string][]string
	// LayersRead counts layers scanned, for tests and for the plan's evidence.
	LayersRead int
}

type entry struct {
	uid, gid int
	mode     fs.FileMode
	size     int64
	link     string // symlink target as stored
	content  []byte
	kept     bool
}

// New returns the filesystem of img; name is used in error messages. Files
// matching one of keepContent (absolute path.Match patterns) keep their
// content for ReadFile.
func New(img v1.Image, name string, keepContent []string) *FS {
	return &FS{img: img, name: name, keepContent: keepContent}
}

// Scanned reports whether any layer has been read.
func (f *FS) Scanned() bool { return f.entries != nil }

func (f *FS) load() error {
	f.once.Do(func() { f.err = f.scan() })
	return f.err
}

func (f *FS) scan() error {
	layers, err := f.img.Layers()
	if err != nil {
		return fmt.Errorf("listing layers of %s: %w", f.name, err)
	}
	f.entries = map[string]*entry{"/": {mode: fs.ModeDir | 0o755}}
	for i, l := range layers {
		if err := f.applyLayer(l); err != nil {
			d, _ := l.Digest()
			return fmt.Errorf("reading layer %d (%s) of %s: %w", i+1, d, f.name, err)
		}
		f.LayersRead++
	}
	f.children = map[string][]string{}
	for p := range f.entries {
		if p != "/" {
			dir := path.Dir(p)
			f.children[dir] = append(f.children[dir], path.Base(p))
		}
	}
	for _, c := range f.children {
		sort.Strings(c)
	}
	return nil
}

func (f *FS) applyLayer(l v1.Layer) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	added := map[string]bool{} // paths this layer wrote: an opaque whiteout only hides lower layers
	for {
		h, err := tr.Next()
		if err == io.EOF {
			// Read to the end of the blob, past the tar's end marker and
			// padding, so that the gzip checksum and the blob digest are
			// checked (ggcr verifies a registry blob at EOF): a layer
			// damaged on the way is an error, never silently half-read.
			if _, err := io.Copy(io.Discard, rc); err != nil {
				return err
			}
			return nil
		}
		if err != nil {
			return err
		}
		p := path.Clean("/" + h.Name)
		dir, base := path.Split(p)
		dir = path.Clean(dir)
		switch {
		case base == ".wh..wh..opq":
			f.removeChildren(dir, added)
			continue
		case strings.HasPrefix(base, ".wh."):
			if name := strings.TrimPrefix(base, ".wh."); name != "" { // ".wh." alone names nothing
				f.remove(path.Join(dir, name))
			}
			continue
		}
		e := &entry{mode: h.FileInfo().Mode(), size: h.Size, uid: h.Uid, gid: h.Gid}
		switch h.Typeflag {
		case tar.TypeSymlink:
			e.link = h.Linkname
		case tar.TypeLink:
			target, ok := f.entries[path.Clean("/"+h.Linkname)]
			if !ok {
				return fmt.Errorf("hard link %s points at missing %s", h.Name, h.Linkname)
			}
			cp := *target
			e = &cp
		case tar.TypeReg:
			if f.wantContent(p) && h.Size <= maxContent {
				b, err := io.ReadAll(io.LimitReader(tr, maxContent))
				if err != nil {
					return err
				}
				e.content, e.kept = b, true
			}
		}
		if old, ok := f.entries[p]; ok && old.mode.IsDir() && !e.mode.IsDir() {
			f.remove(p) // a file replacing a directory hides what was below
		}
		f.ensureParents(p)
		f.entries[p] = e
		added[p] = true
	}
}

func (f *FS) wantContent(p string) bool {
	for _, pat := range f.keepContent {
		if ok, _ := path.Match(pat, p); ok {
			return true
		}
	}
	return false
}

func (f *FS) ensureParents(p string) {
	for d := path.Dir(p); d != "/"; d = path.Dir(d) {
		if _, ok := f.entries[d]; ok {
			return
		}
		f.entries[d] = &entry{mode: fs.ModeDir | 0o755}
	}
}

// remove deletes p and everything below it. The root is never deleted (an
// opaque marker or a ".wh." entry at the top of a layer must not leave the
// filesystem without "/").
func (f *FS) remove(p string) {
	if p != "/" {
		delete(f.entries, p)
	}
	f.removeChildren(p, nil)
}

func (f *FS) removeChildren(dir string, keep map[string]bool) {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	for q := range f.entries {
		if q != "/" && strings.HasPrefix(q, prefix) && !keep[q] {
			delete(f.entries, q)
		}
	}
}

// resolve follows symlinks in every component of p within the image root.
func (f *FS) resolve(p string) (string, *entry, error) {
	return rootpath.Resolve(p, func(q string) (*entry, fs.FileMode, string, error) {
		e, ok := f.entries[q]
		if !ok {
			return nil, 0, "", &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
		}
		return e, e.mode, e.link, nil
	})
}

// Stat implements buildplan.ImageFS.
func (f *FS) Stat(p string) (fs.FileInfo, error) {
	if err := f.load(); err != nil {
		return nil, err
	}
	rp, e, err := f.resolve(p)
	if err != nil {
		return nil, err
	}
	return info{name: path.Base(rp), e: e}, nil
}

// ReadDir implements buildplan.ImageFS.
func (f *FS) ReadDir(p string) ([]fs.DirEntry, error) {
	if err := f.load(); err != nil {
		return nil, err
	}
	rp, e, err := f.resolve(p)
	if err != nil {
		return nil, err
	}
	if !e.mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: p, Err: errors.New("not a directory")}
	}
	var out []fs.DirEntry
	for _, n := range f.children[rp] {
		out = append(out, fs.FileInfoToDirEntry(info{name: n, e: f.entries[path.Join(rp, n)]}))
	}
	return out, nil
}

// Lookup implements buildplan.ImageFS: p's parents are resolved, its last
// component is not followed.
func (f *FS) Lookup(p string) (buildplan.FileStat, error) {
	if err := f.load(); err != nil {
		return buildplan.FileStat{}, err
	}
	p = path.Clean("/" + p)
	if p != "/" {
		dir, _, err := f.resolve(path.Dir(p))
		if err != nil {
			return buildplan.FileStat{}, err
		}
		p = path.Join(dir, path.Base(p))
	}
	e, ok := f.entries[p]
	if !ok {
		return buildplan.FileStat{}, &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
	}
	return buildplan.FileStat{Mode: e.mode, UID: e.uid, GID: e.gid, Link: e.link}, nil
}

// ReadFile implements buildplan.ImageFS.
func (f *FS) ReadFile(p string, limit int64) ([]byte, error) {
	if err := f.load(); err != nil {
		return nil, err
	}
	_, e, err := f.resolve(p)
	if err != nil {
		return nil, err
	}
	if !e.mode.IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errors.New("not a regular file")}
	}
	if !e.kept {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errors.New("content not retained while scanning layers (not in buildplan.ContentPaths)")}
	}
	b := e.content
	if limit >= 0 && int64(len(b)) > limit {
		b = b[:limit]
	}
	return b, nil
}

type info struct {
	name string
	e    *entry
}

func (i info) Name() string       { return i.name }
func (i info) Size() int64        { return i.e.size }
func (i info) Mode() fs.FileMode  { return i.e.mode }
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.e.mode.IsDir() }
func (i info) Sys() any           { return Owner{UID: i.e.uid, GID: i.e.gid} }

// Owner is what FileInfo.Sys returns: the numeric owner recorded in the
// layer (the merged view's last writer).
type Owner struct{ UID, GID int }
