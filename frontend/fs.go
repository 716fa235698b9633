package frontend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	fstypes "github.com/tonistiigi/fsutil/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/rootpath"
)

// refFS reads a solved gateway reference. It serves two views: the image
// view buildplan detects runtimes with (absolute paths, symlinks followed
// inside the root), and an fs.FS rooted at dir for reading an agent folder
// out of a build context or an agent image.
//
// Every gateway call is a round trip to buildkitd that mounts the
// reference, so stats are remembered: a reference never changes, and
// resolving each path component and walking a folder would otherwise stat
// the same parents again and again. A ReadDir fills in its entries' stats.
type refFS struct {
	ctx context.Context
	ref gwclient.Reference
	dir string // root of the fs.FS view, "/" for the whole reference

	mu    sync.Mutex
	stats map[string]*statResult // by absolute path
}

type statResult struct {
	st   *fstypes.Stat
	err  error
	done chan struct{} // closed once st and err are set
}

func newRefFS(ctx context.Context, ref gwclient.Reference, dir string) *refFS {
	return &refFS{ctx: ctx, ref: ref, dir: dir, stats: map[string]*statResult{}}
}

var (
	_ buildplan.ImageFS = (*refFS)(nil)
	_ fs.ReadDirFS      = (*refFS)(nil)
	_ fs.ReadLinkFS     = (*refFS)(nil)
)

func notExist(op, p string, err error) error {
	if err == nil {
		return nil
	}
	if status.Code(err) == codes.NotFound || strings.Contains(err.Error(), "no such file or directory") || strings.Contains(err.Error(), "not found") {
		return &fs.PathError{Op: op, Path: p, Err: fs.ErrNotExist}
	}
	return err
}

// lstat stats p once: a second caller while the first one's round trip is
// under way (the install-dir prefetch, then planning) waits for its answer.
// Only answers are remembered; a failed round trip is asked again.
func (f *refFS) lstat(p string) (*fstypes.Stat, error) {
	f.mu.Lock()
	if r, ok := f.stats[p]; ok {
		f.mu.Unlock()
		<-r.done
		return r.st, r.err
	}
	r := &statResult{done: make(chan struct{})}
	f.stats[p] = r
	f.mu.Unlock()
	st, err := f.ref.StatFile(f.ctx, gwclient.StatRequest{Path: p})
	r.st, r.err = st, notExist("stat", p, err)
	if r.err != nil && !errors.Is(r.err, fs.ErrNotExist) {
		f.mu.Lock()
		delete(f.stats, p)
		f.mu.Unlock()
	}
	close(r.done)
	return r.st, r.err
}

// remember records a stat a ReadDir answered, unless p has one already.
func (f *refFS) remember(p string, st *fstypes.Stat) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.stats[p]; !ok {
		r := &statResult{st: st, done: make(chan struct{})}
		close(r.done)
		f.stats[p] = r
	}
}

// resolve follows symlinks in every component of p, keeping ".." at the
// root as a container runtime does.
func (f *refFS) resolve(p string) (string, *fstypes.Stat, error) {
	return rootpath.Resolve(p, func(q string) (*fstypes.Stat, fs.FileMode, string, error) {
		st, err := f.lstat(q)
		if err != nil {
			return nil, 0, "", err
		}
		return st, fs.FileMode(st.Mode), st.Linkname, nil
	})
}

// Stat implements buildplan.ImageFS (follows symlinks).
func (f *refFS) Stat(p string) (fs.FileInfo, error) {
	rp, st, err := f.resolve(p)
	if err != nil {
		return nil, err
	}
	return statInfo{name: path.Base(rp), st: st}, nil
}

// ReadDir implements buildplan.ImageFS and fs.ReadDirFS.
func (f *refFS) ReadDir(p string) ([]fs.DirEntry, error) {
	full, err := f.abs(p)
	if err != nil {
		return nil, err
	}
	rp, _, err := f.resolve(full)
	if err != nil {
		return nil, err
	}
	sts, err := f.ref.ReadDir(f.ctx, gwclient.ReadDirRequest{Path: rp})
	if err != nil {
		return nil, notExist("readdir", p, err)
	}
	out := make([]fs.DirEntry, 0, len(sts))
	for _, st := range sts {
		name := path.Base(st.Path)
		f.remember(path.Join(rp, name), st)
		out = append(out, fs.FileInfoToDirEntry(statInfo{name: name, st: st}))
	}
	return out, nil
}

// Lookup implements buildplan.ImageFS (the last component is not followed;
// callers pass paths whose parents are not symlinks).
func (f *refFS) Lookup(p string) (buildplan.FileStat, error) {
	st, err := f.lstat(path.Clean("/" + p))
	if err != nil {
		return buildplan.FileStat{}, err
	}
	return buildplan.FileStat{Mode: fs.FileMode(st.Mode), UID: int(st.Uid), GID: int(st.Gid), Link: st.Linkname}, nil
}

// ReadFile implements buildplan.ImageFS.
func (f *refFS) ReadFile(p string, limit int64) ([]byte, error) {
	rp, st, err := f.resolve(p)
	if err != nil {
		return nil, err
	}
	if !fs.FileMode(st.Mode).IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errors.New("not a regular file")}
	}
	req := gwclient.ReadRequest{Filename: rp}
	if limit >= 0 {
		req.Range = &gwclient.FileRange{Length: int(limit)}
	}
	b, err := f.ref.ReadFile(f.ctx, req)
	return b, notExist("read", p, err)
}

// abs maps an fs.FS name (relative to dir) to a path in the reference.
func (f *refFS) abs(name string) (string, error) {
	if strings.HasPrefix(name, "/") {
		return name, nil // buildplan.ImageFS callers use absolute paths
	}
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	return path.Join(f.dir, name), nil
}

// entry maps an fs.FS name to its path in the reference and lstats it.
func (f *refFS) entry(name string) (string, *fstypes.Stat, error) {
	full, err := f.abs(name)
	if err != nil {
		return "", nil, err
	}
	st, err := f.lstat(full)
	return full, st, err
}

// Open implements fs.FS: the whole file is read on open (agent files are
// read once, to hash and to copy the config file).
func (f *refFS) Open(name string) (fs.File, error) {
	full, st, err := f.entry(name)
	if err != nil {
		return nil, err
	}
	info := statInfo{name: path.Base(full), st: st}
	if !info.Mode().IsRegular() {
		return &openFile{info: info, r: bytes.NewReader(nil)}, nil
	}
	b, err := f.readAll(full, st.Size)
	if err != nil {
		return nil, notExist("open", name, err)
	}
	return &openFile{info: info, r: bytes.NewReader(b)}, nil
}

// readChunk stays under the gateway's 16 MiB limit for one ReadFile.
const readChunk = 8 << 20

// readAll reads a file of the given size in chunks.
func (f *refFS) readAll(p string, size int64) ([]byte, error) {
	out := make([]byte, 0, size)
	for int64(len(out)) < size {
		n := min(size-int64(len(out)), readChunk)
		b, err := f.ref.ReadFile(f.ctx, gwclient.ReadRequest{Filename: p, Range: &gwclient.FileRange{Offset: len(out), Length: int(n)}})
		if err != nil {
			return nil, err
		}
		if len(b) == 0 {
			return nil, fmt.Errorf("%s: short read at %d of %d bytes", p, len(out), size)
		}
		out = append(out, b...)
	}
	return out, nil
}

// Lstat implements fs.ReadLinkFS.
func (f *refFS) Lstat(name string) (fs.FileInfo, error) {
	full, st, err := f.entry(name)
	if err != nil {
		return nil, err
	}
	return statInfo{name: path.Base(full), st: st}, nil
}

// ReadLink implements fs.ReadLinkFS.
func (f *refFS) ReadLink(name string) (string, error) {
	_, st, err := f.entry(name)
	if err != nil {
		return "", err
	}
	if fs.FileMode(st.Mode)&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return st.Linkname, nil
}

type openFile struct {
	info statInfo
	r    *bytes.Reader
}

func (o *openFile) Stat() (fs.FileInfo, error) { return o.info, nil }
func (o *openFile) Read(p []byte) (int, error) { return o.r.Read(p) }
func (o *openFile) Close() error               { return nil }

var _ io.Reader = (*openFile)(nil)

type statInfo struct {
	name string
	st   *fstypes.Stat
}

func (s statInfo) Name() string       { return s.name }
func (s statInfo) Size() int64        { return s.st.Size }
func (s statInfo) Mode() fs.FileMode  { return fs.FileMode(s.st.Mode) }
func (s statInfo) ModTime() time.Time { return time.Unix(0, s.st.ModTime) }
func (s statInfo) IsDir() bool        { return s.Mode().IsDir() }
func (s statInfo) Sys() any           { return s.st }
