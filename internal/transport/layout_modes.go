package transport

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// A layout is often shared: handed to another user, served, copied into a
// build context. go-containerregistry's writer gives its files whatever
// mode the way it wrote them implies: a layer it streams goes through
// os.CreateTemp and stays 0600, index blobs and the oci-layout file get
// os.ModePerm (0755, executable), the rest 0644. So after a write, the
// files it added get the one mode every layout file of jbuild has: 0644
// minus what the umask takes away (folders are 0755 the same way, which
// MkdirAll already gives). Files that were there before keep their mode:
// they may be someone else's choice.

// umask is the process's file creation mask, read once by creating a file
// (syscall.Umask can only read it by changing it, for every goroutine).
var umask = sync.OnceValue(func() fs.FileMode {
	const usual = 0o022
	dir, err := os.MkdirTemp("", "jbuild-umask-")
	if err != nil {
		return usual
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, "probe")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o777)
	if err != nil {
		return usual
	}
	f.Close()
	fi, err := os.Stat(p)
	if err != nil {
		return usual
	}
	return 0o777 &^ fi.Mode().Perm()
})

// fileMode is the mode of every file jbuild writes into a layout, and of
// the archives it writes.
func fileMode() fs.FileMode { return 0o644 &^ umask() }

// layoutFiles lists the files of the layout at dir by path relative to it:
// oci-layout, index.json and blobs/ALG/HEX.
func layoutFiles(dir string) (map[string]bool, error) {
	files := map[string]bool{}
	for _, name := range []string{"oci-layout", "index.json"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			files[name] = true
		}
	}
	algs, err := os.ReadDir(filepath.Join(dir, "blobs"))
	if errors.Is(err, fs.ErrNotExist) {
		return files, nil
	}
	if err != nil {
		return nil, err
	}
	for _, alg := range algs {
		if !alg.IsDir() {
			continue
		}
		blobs, err := os.ReadDir(filepath.Join(dir, "blobs", alg.Name()))
		if err != nil {
			return nil, err
		}
		for _, b := range blobs {
			files[filepath.Join("blobs", alg.Name(), b.Name())] = true
		}
	}
	return files, nil
}

// settleModes gives the regular files of dir's layout that are not in
// before fileMode.
func settleModes(dir string, before map[string]bool) error {
	after, err := layoutFiles(dir)
	if err != nil {
		return err
	}
	want := fileMode()
	for rel := range after {
		if before[rel] {
			continue
		}
		p := filepath.Join(dir, rel)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() && fi.Mode().Perm() != want {
			if err := os.Chmod(p, want); err != nil {
				return fmt.Errorf("setting the mode of %s: %w", p, err)
			}
		}
	}
	return nil
}
