package transport

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/rootpath"
)

// LabelTemporary marks the containers jbuild creates to read an image's
// files in the daemon; they are never started and are removed when the
// wrap ends (one left behind by a killed run can be found by this label).
const LabelTemporary = "io.jbuild.temporary"

// daemonFiles is buildplan.ImageFS over a container created from the image
// and never started: the Engine API's archive endpoint streams a path as a
// tar, whose first header is the path's owner, mode and link, so a lookup
// reads one header and hangs up. Listing a folder reads its whole tree's
// headers (the daemon sends the file bodies too): planning lists only the
// few folders detection needs (libc and runtime folders, when the config
// does not answer). Answers are kept for the wrap's duration.
type daemonFiles struct {
	cli   *client.Client
	image string
	label string

	mu      sync.Mutex
	id      string // the container, once created
	err     error
	created bool
	stats   map[string]fileStat
	dirs    map[string][]string
}

type fileStat struct {
	st   buildplan.FileStat
	size int64
	err  error
}

var _ buildplan.ImageFS = (*daemonFiles)(nil)

// timeout bounds each daemon call planning makes.
const filesTimeout = 2 * time.Minute

func (f *daemonFiles) container() (string, error) {
	if f.created {
		return f.id, f.err
	}
	f.created = true
	ctx, cancel := context.WithTimeout(context.Background(), filesTimeout)
	defer cancel()
	// An entrypoint is set so that an image without one or a command can
	// be created too; the container is never started.
	resp, err := f.cli.ContainerCreate(ctx, &container.Config{
		Image: f.image, Entrypoint: []string{"/jbuild-never-started"}, Cmd: []string{},
		Labels: map[string]string{LabelTemporary: "reading files for jbuild"}, NetworkDisabled: true,
	}, &container.HostConfig{NetworkMode: "none"}, nil, nil, "")
	if err != nil {
		f.err = fmt.Errorf("reading the files of %s: creating a container of it (never started): %w", f.label, err)
		return "", f.err
	}
	f.id = resp.ID
	return f.id, nil
}

func (f *daemonFiles) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f.cli.ContainerRemove(ctx, f.id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	f.id = ""
}

// archive opens the tar of p (parents symlink-free: the daemon resolves
// them, not p's last component).
func (f *daemonFiles) archive(ctx context.Context, p string) (*tar.Reader, io.Closer, error) {
	id, err := f.container()
	if err != nil {
		return nil, nil, err
	}
	rc, _, err := f.cli.CopyFromContainer(ctx, id, p)
	if err != nil {
		if client.IsErrNotFound(err) || strings.Contains(err.Error(), "not a directory") {
			return nil, nil, &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
		}
		return nil, nil, fmt.Errorf("reading %s of %s through its container: %w", p, f.label, err)
	}
	return tar.NewReader(rc), rc, nil
}

// lstat describes p without following its last component.
func (f *daemonFiles) lstat(p string) fileStat {
	p = path.Clean("/" + p)
	if s, ok := f.stats[p]; ok {
		return s
	}
	s := f.readStat(p)
	if f.stats == nil {
		f.stats = map[string]fileStat{}
	}
	f.stats[p] = s
	return s
}

func (f *daemonFiles) readStat(p string) fileStat {
	ctx, cancel := context.WithTimeout(context.Background(), filesTimeout)
	defer cancel() // hangs up after the first header
	tr, c, err := f.archive(ctx, p)
	if err != nil {
		return fileStat{err: err}
	}
	defer c.Close()
	h, err := tr.Next()
	if err != nil {
		return fileStat{err: fmt.Errorf("reading %s of %s through its container: %w", p, f.label, err)}
	}
	return fileStat{st: headerStat(h), size: h.Size}
}

func headerStat(h *tar.Header) buildplan.FileStat {
	return buildplan.FileStat{Mode: h.FileInfo().Mode(), UID: h.Uid, GID: h.Gid, Link: h.Linkname}
}

func (f *daemonFiles) resolve(p string) (string, fileStat, error) {
	return rootpath.Resolve(p, func(q string) (fileStat, fs.FileMode, string, error) {
		s := f.lstat(q)
		return s, s.st.Mode, s.st.Link, s.err
	})
}

// Lookup implements buildplan.ImageFS.
func (f *daemonFiles) Lookup(p string) (buildplan.FileStat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p = path.Clean("/" + p)
	if p != "/" {
		dir, _, err := f.resolve(path.Dir(p))
		if err != nil {
			return buildplan.FileStat{}, err
		}
		p = path.Join(dir, path.Base(p))
	}
	s := f.lstat(p)
	return s.st, s.err
}

// Stat implements buildplan.ImageFS.
func (f *daemonFiles) Stat(p string) (fs.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp, s, err := f.resolve(p)
	if err != nil {
		return nil, err
	}
	return fileInfo{name: path.Base(rp), s: s}, nil
}

// ReadFile implements buildplan.ImageFS.
func (f *daemonFiles) ReadFile(p string, limit int64) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp, s, err := f.resolve(p)
	if err != nil {
		return nil, err
	}
	if !s.st.Mode.IsRegular() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: errors.New("not a regular file")}
	}
	ctx, cancel := context.WithTimeout(context.Background(), filesTimeout)
	defer cancel()
	tr, c, err := f.archive(ctx, rp)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := tr.Next(); err != nil {
		return nil, fmt.Errorf("reading %s of %s through its container: %w", p, f.label, err)
	}
	var r io.Reader = tr
	if limit >= 0 {
		r = io.LimitReader(tr, limit)
	}
	return io.ReadAll(r)
}

// ReadDir implements buildplan.ImageFS.
func (f *daemonFiles) ReadDir(p string) ([]fs.DirEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rp, s, err := f.resolve(p)
	if err != nil {
		return nil, err
	}
	if !s.st.Mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: p, Err: errors.New("not a directory")}
	}
	names, ok := f.dirs[rp]
	if !ok {
		if names, err = f.readDir(rp); err != nil {
			return nil, err
		}
		if f.dirs == nil {
			f.dirs = map[string][]string{}
		}
		f.dirs[rp] = names
	}
	out := make([]fs.DirEntry, 0, len(names))
	for _, n := range names {
		out = append(out, fs.FileInfoToDirEntry(fileInfo{name: n, s: f.stats[path.Join(rp, n)]}))
	}
	return out, nil
}

// readDir lists dir's children from the headers of its tree, remembering
// each child's stat.
func (f *daemonFiles) readDir(dir string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), filesTimeout)
	defer cancel()
	tr, c, err := f.archive(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	// Names in the archive start with dir's base name ("/" gives ".").
	var names []string
	if f.stats == nil {
		f.stats = map[string]fileStat{}
	}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("listing %s of %s through its container: %w", dir, f.label, err)
		}
		_, rest, ok := strings.Cut(strings.TrimSuffix(h.Name, "/"), "/")
		if !ok || rest == "" || strings.Contains(rest, "/") {
			continue
		}
		names = append(names, rest)
		f.stats[path.Join(dir, rest)] = fileStat{st: headerStat(h), size: h.Size}
	}
	return names, nil
}

type fileInfo struct {
	name string
	s    fileStat
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.s.size }
func (i fileInfo) Mode() fs.FileMode  { return i.s.st.Mode }
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return i.s.st.Mode.IsDir() }
func (i fileInfo) Sys() any           { return nil }
