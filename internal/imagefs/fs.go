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
	"github.com/jbuild-dev/jbuild/internal/keylock"

	"github.com/jbuild-dev/jbuild/internal/rootpath"
)

// maxContent bounds a file whose content is kept: detection reads small
// text files (/etc/passwd, /etc/os-release), never binaries.
const maxContent = 1 << 20

// parallelReads bounds the layers read at once: enough to overlap
// downloads with decompression on this kind of machine, few enough that a
// 100-layer image does not open 100 connections.
const parallelReads = 4

// maxSymlinkHops mirrors the kernel's ELOOP limit.
const maxSymlinkHops = rootpath.MaxHops

// FS is the lazily scanned filesystem of one image.
type FS struct {
	img         v1.Image
	keepContent []string // path.Match patterns
	name        string

	once     sync.Once
	mu       sync.Mutex // guards LayersRead while layers are read side by side
	err      error
	entries  map[string]*entry
	children map[string][]string
	// LayersRead counts layers downloaded and scanned (not found in the
	// cache), for tests and for the plan's evidence.
	LayersRead int
	// Unread says, per layer left out (WithUnread), which and why.
	Unread []string

	unread map[int]string // layer index -> why it need not be read

	// onDownload runs once, when the first layer that is not in the cache
	// is about to be read (WithDownloadStart).
	onDownload     func()
	onDownloadOnce sync.Once

	cache *layerCache // nil: no cache
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
func New(img v1.Image, name string, keepContent []string, opts ...Option) *FS {
	f := &FS{img: img, name: name, keepContent: keepContent}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Option configures an FS.
type Option func(*FS)

// WithUnread leaves out the layers (by index, bottom first) the caller
// knows cannot change what it will look at, each with the reason (see
// buildplan.UnreadLayers). A layer whose files are in the cache is still
// used: knowing costs nothing then.
func WithUnread(layers map[int]string) Option {
	return func(f *FS) { f.unread = layers }
}

// WithDownloadStart calls f once, when the scan first reads a layer that
// is not in the cache: planning is about to wait on downloads, which a
// caller can use to get its own round trips (upload sessions) out of the
// way meanwhile.
func WithDownloadStart(f func()) Option {
	return func(fs *FS) { fs.onDownload = f }
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
	// Layers are read side by side (downloads overlap, and so does
	// decompressing on more than one core), then applied bottom first.
	type result struct {
		ops  []layerOp
		err  error
		skip bool
	}
	results := make([]result, len(layers))
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallelReads)
	for i, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return fmt.Errorf("reading layer %d of %s: %w", i+1, f.name, err)
		}
		if why, ok := f.unread[i]; ok {
			if _, cached := f.cache.load(d, f.keepContent); !cached {
				f.Unread = append(f.Unread, fmt.Sprintf("layer %d (%s) not read: %s", i+1, shortHash(d), why))
				results[i].skip = true
				continue
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			ops, err := f.layerOps(l, d)
			if err != nil {
				err = fmt.Errorf("reading layer %d (%s) of %s: %w", i+1, d, f.name, err)
			}
			results[i] = result{ops: ops, err: err}
		}()
	}
	wg.Wait()
	f.entries = map[string]*entry{"/": {mode: fs.ModeDir | 0o755}}
	for i, r := range results {
		if r.skip {
			continue
		}
		if r.err != nil {
			return r.err
		}
		if err := f.applyOps(r.ops); err != nil {
			d, _ := layers[i].Digest()
			return fmt.Errorf("reading layer %d (%s) of %s: %w", i+1, d, f.name, err)
		}
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

// readOps streams one layer and returns what it does to the filesystem,
// in order.
func (f *FS) readOps(l v1.Layer) ([]layerOp, error) {
	rc, err := uncompressed(l)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var ops []layerOp
	for {
		h, err := tr.Next()
		if err == io.EOF {
			// Read to the end of the blob, past the tar's end marker and
			// padding, so that the gzip checksum and the blob digest are
			// checked (ggcr verifies a registry blob at EOF): a layer
			// damaged on the way is an error, never silently half-read.
			if _, err := io.Copy(io.Discard, rc); err != nil {
				return nil, err
			}
			return ops, nil
		}
		if err != nil {
			return nil, err
		}
		p := path.Clean("/" + h.Name)
		dir, base := path.Split(p)
		dir = path.Clean(dir)
		switch {
		case base == ".wh..wh..opq":
			ops = append(ops, layerOp{Kind: opOpaque, Path: dir})
			continue
		case strings.HasPrefix(base, ".wh."):
			if name := strings.TrimPrefix(base, ".wh."); name != "" { // ".wh." alone names nothing
				ops = append(ops, layerOp{Kind: opWhiteout, Path: path.Join(dir, name)})
			}
			continue
		}
		op := layerOp{Path: p, Mode: h.FileInfo().Mode(), Size: h.Size, UID: h.Uid, GID: h.Gid}
		switch h.Typeflag {
		case tar.TypeSymlink:
			op.Link = h.Linkname
		case tar.TypeLink:
			op.Kind, op.Link = opHardLink, h.Linkname
		case tar.TypeReg:
			if f.wantContent(p) && h.Size <= maxContent {
				b, err := io.ReadAll(io.LimitReader(tr, maxContent))
				if err != nil {
					return nil, err
				}
				op.Content, op.Kept = b, true
			}
		}
		ops = append(ops, op)
	}
}

// layerOps returns what layer l (digest d) does, from the cache or read
// now. Scans that need the same layer at the same time (`wrap -f` wrapping
// images on one base) read it once: the others wait, then hit the cache.
func (f *FS) layerOps(l v1.Layer, d v1.Hash) ([]layerOp, error) {
	if f.cache != nil {
		defer reading.Lock(f.cache.file(d, f.keepContent))()
	}
	if ops, ok := f.cache.load(d, f.keepContent); ok {
		return ops, nil
	}
	if f.onDownload != nil {
		f.onDownloadOnce.Do(f.onDownload)
	}
	ops, err := f.readOpsRetrying(l)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.LayersRead++
	f.mu.Unlock()
	f.cache.store(d, f.keepContent, ops)
	return ops, nil
}

var reading keylock.Locks

// readAttempts bounds how often a layer is read: a download cut short,
// reset or damaged on the way (the digest check at the end tells) is read
// again from the start; a layer that is broken at its source fails every
// attempt with the same error.
const readAttempts = 3

func (f *FS) readOpsRetrying(l v1.Layer) ([]layerOp, error) {
	var err error
	for i := 0; i < readAttempts; i++ {
		var ops []layerOp
		if ops, err = f.readOps(l); err == nil {
			return ops, nil
		}
		if i+1 < readAttempts {
			time.Sleep(time.Duration(i+1) * 100 * time.Millisecond)
		}
	}
	return nil, err
}

// applyOps applies one layer's operations, as a container runtime would.
func (f *FS) applyOps(ops []layerOp) error {
	added := map[string]bool{} // paths this layer wrote: an opaque whiteout only hides lower layers
	for _, op := range ops {
		switch op.Kind {
		case opOpaque:
			f.removeChildren(op.Path, added)
			continue
		case opWhiteout:
			f.remove(op.Path)
			continue
		}
		e := &entry{mode: op.Mode, size: op.Size, uid: op.UID, gid: op.GID, content: op.Content, kept: op.Kept}
		switch op.Kind {
		case opHardLink:
			target, ok := f.entries[path.Clean("/"+op.Link)]
			if !ok {
				return fmt.Errorf("hard link %s points at missing %s", strings.TrimPrefix(op.Path, "/"), op.Link)
			}
			cp := *target
			e = &cp
		default:
			if op.Mode&fs.ModeSymlink != 0 {
				e.link = op.Link
			}
		}
		if old, ok := f.entries[op.Path]; ok && old.mode.IsDir() && !e.mode.IsDir() {
			f.remove(op.Path) // a file replacing a directory hides what was below
		}
		f.ensureParents(op.Path)
		f.entries[op.Path] = e
		added[op.Path] = true
	}
	return nil
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

func shortHash(h v1.Hash) string {
	if len(h.Hex) > 12 {
		return h.Algorithm + ":" + h.Hex[:12]
	}
	return h.String()
}
