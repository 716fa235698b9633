// Package rootpath resolves paths inside an image's root filesystem the way
// a container runtime does: every symlink in every component is followed,
// relative links from their directory and absolute ones from the image
// root, and ".." never climbs above "/". Both views of an image's files
// (internal/imagefs over layers, the frontend over BuildKit's gateway) use
// it, so they agree on what a path names.
package rootpath

import (
	"errors"
	"io/fs"
	"path"
	"strings"
)

// MaxHops mirrors the kernel's ELOOP limit.
const MaxHops = 40

// ErrLoop is returned after MaxHops symlinks.
var ErrLoop = errors.New("too many levels of symbolic links")

// Lstat describes one path without following a final symlink: its mode
// and, for a symlink, its target. T is whatever the caller wants back for
// the resolved path.
type Lstat[T any] func(p string) (info T, mode fs.FileMode, link string, err error)

// Resolve returns the symlink-free path p names and the Lstat result for
// it. The root itself is looked up with lstat("/").
func Resolve[T any](p string, lstat Lstat[T]) (string, T, error) {
	var zero T
	hops := 0
	cur := "/"
	rest := strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/")
	var last T
	haveLast := false
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		if c == "" || c == "." {
			continue
		}
		next := path.Join(cur, c)
		info, mode, link, err := lstat(next)
		if err != nil {
			return "", zero, err
		}
		if mode&fs.ModeSymlink != 0 {
			if hops++; hops > MaxHops {
				return "", zero, &fs.PathError{Op: "stat", Path: p, Err: ErrLoop}
			}
			target := link
			if !path.IsAbs(target) {
				target = path.Join(cur, target)
			}
			// Re-walk the target from the root; path.Clean keeps ".." at "/".
			rest = append(strings.Split(strings.Trim(path.Clean(target), "/"), "/"), rest...)
			cur, haveLast = "/", false
			continue
		}
		cur, last, haveLast = next, info, true
	}
	if !haveLast {
		info, _, _, err := lstat("/")
		if err != nil {
			return "", zero, err
		}
		last = info
	}
	return cur, last, nil
}
