// Package atomicfile replaces files whole: the new content is written to a
// temporary file in the destination's folder (so the final rename stays on
// one filesystem and is atomic), flushed to disk, given its mode, and only
// then renamed over the destination. A reader sees the old file or the new
// one, never part of either, and a failure at any step leaves the
// destination as it was and removes the temporary file.
//
// Every file jbuild replaces goes through it: an OCI layout's index.json
// and the archives it writes (internal/transport), the cache entries of
// internal/agent, internal/agentlayer and internal/imagefs, and the
// manifests `jbuild wrap -f` rewrites (internal/wrapfiles).
//
// The contents are always flushed (fsync) before the rename, whoever the
// caller: without it a crash shortly after the rename can leave the new
// name on an empty or partial file on filesystems that order metadata
// before data (ext4 without auto_da_alloc, XFS), which is exactly what the
// rename was meant to rule out. jbuild replaces a handful of files per
// run, each after work (compressing, downloading, wrapping) that costs far
// more than one flush.
package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Option changes how Create, Write and WriteFile name or mode a file.
type Option func(*config)

type config struct {
	pattern string
	exact   bool
}

// TempPattern names the temporary file as os.CreateTemp's pattern does:
// the last "*" is replaced by random digits (appended when there is no
// "*"). The default is "." + the destination's base name + ".tmp-*", a
// hidden file next to it. Callers whose cache trimming recognises left
// over temporary files by name pass their own.
func TempPattern(pattern string) Option { return func(c *config) { c.pattern = pattern } }

// ExactPerm gives the file perm exactly, whatever the umask: for a file
// that replaces one with its own mode, or a cache shared by several users.
// Without it the file gets perm minus the umask, as a file created
// directly would.
func ExactPerm() Option { return func(c *config) { c.exact = true } }

// File is a temporary file beside its destination, written with Write and
// put in place by Commit. Discard (safe to defer, and after Commit)
// removes it when Commit was not reached or failed. A File is for one
// goroutine.
type File struct {
	f     *os.File
	path  string
	perm  fs.FileMode
	exact bool
	// state: open until Close; closed is a complete temporary file; done
	// is renamed into place or removed.
	closed, done bool
	err          error
}

// Create creates the temporary file for path in path's folder, which must
// exist.
func Create(path string, perm fs.FileMode, opts ...Option) (*File, error) {
	c := config{pattern: "." + filepath.Base(path) + ".tmp-*"}
	for _, o := range opts {
		o(&c)
	}
	prefix, suffix := c.pattern, ""
	if i := strings.LastIndex(c.pattern, "*"); i >= 0 {
		prefix, suffix = c.pattern[:i], c.pattern[i+1:]
	}
	dir := filepath.Dir(path)
	// os.CreateTemp would create the file 0600; opening it with perm lets
	// the kernel apply the umask (and a folder's default ACL) as it does
	// for any new file.
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10)+suffix)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm.Perm())
		if errors.Is(err, fs.ErrExist) && try < 10000 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &File{f: f, path: path, perm: perm.Perm(), exact: c.exact}, nil
	}
}

// Write writes to the temporary file.
func (f *File) Write(p []byte) (int, error) { return f.f.Write(p) }

// ReadFrom lets io.Copy use the *os.File's fast paths.
func (f *File) ReadFrom(r io.Reader) (int64, error) { return f.f.ReadFrom(r) }

// Close completes the temporary file: flushed to disk, closed, and given
// its mode. The destination is not touched until Commit; callers that
// replace several files close them all before the first Commit. On error
// the temporary file is removed.
func (f *File) Close() error {
	if f.closed || f.done {
		return f.err
	}
	f.closed = true
	err := f.f.Sync()
	if err == nil && f.exact {
		err = f.f.Chmod(f.perm)
	}
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		f.fail(err)
	}
	return f.err
}

// Commit closes the temporary file if needed and renames it over the
// destination. On error the temporary file is removed.
func (f *File) Commit() error {
	if err := f.Close(); err != nil || f.done {
		return err
	}
	if err := os.Rename(f.f.Name(), f.path); err != nil {
		f.fail(err)
		return err
	}
	f.done = true
	return nil
}

// Discard removes the temporary file unless Commit put it in place.
func (f *File) Discard() {
	if f.done {
		return
	}
	if !f.closed {
		f.closed = true
		f.f.Close()
	}
	f.fail(errors.New("atomicfile: discarded"))
}

func (f *File) fail(err error) {
	os.Remove(f.f.Name())
	f.done = true
	if f.err == nil {
		f.err = err
	}
}

// Write replaces path with what write writes (see the package comment).
func Write(path string, perm fs.FileMode, write func(io.Writer) error, opts ...Option) error {
	f, err := Create(path, perm, opts...)
	if err != nil {
		return err
	}
	defer f.Discard()
	if err := write(f); err != nil {
		return err
	}
	return f.Commit()
}

// WriteFile replaces path with data (see the package comment).
func WriteFile(path string, data []byte, perm fs.FileMode, opts ...Option) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, opts...)
}
