package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// Suite is the Debian release the runtime base images are made of; the host
// is the same release, so host-built parts (the PHP extension, the Java
// classes) match the images' runtimes.
const Suite = "bookworm"

// rootfsVersion is part of every cache key: bump it when the way a rootfs is
// made or trimmed changes, so stale cached layers are rebuilt.
const rootfsVersion = "1"

// AppUID and AppGID are the non-root user "app" every runtime base has.
const (
	AppUID = 1000
	AppGID = 1000
)

// Rootfs is a Debian root filesystem made with debootstrap --variant=minbase
// plus Packages, with the user app (AppUID) added.
type Rootfs struct {
	// Name names the cache file ("java").
	Name     string
	Packages []string
}

var rootfsOnce sync.Map // cache path -> *rootfsResult

type rootfsResult struct {
	once  sync.Once
	layer v1.Layer
	err   error
}

// Layer returns the rootfs as one gzip layer. It is cached as
// TestCacheDir()/images/<name>-<hash>.tar.gz, the hash covering the suite,
// the mirror and the package list, and made on a miss (about 1.5 minutes
// per runtime with a fast mirror). A file lock makes concurrent test
// binaries wait for one build.
func (r Rootfs) Layer() (v1.Layer, error) {
	path, err := r.cachePath()
	if err != nil {
		return nil, err
	}
	v, _ := rootfsOnce.LoadOrStore(path, &rootfsResult{})
	res := v.(*rootfsResult)
	res.once.Do(func() {
		if err := r.ensure(path); err != nil {
			res.err = err
			return
		}
		res.layer, res.err = tarball.LayerFromFile(path, tarball.WithMediaType(types.OCILayer))
	})
	return res.layer, res.err
}

func (r Rootfs) cachePath() (string, error) {
	dir, err := testenv.TestCacheDir()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n%s\n", rootfsVersion, Suite, DebianMirror(), strings.Join(r.Packages, ","))
	return filepath.Join(dir, "images", fmt.Sprintf("%s-%s.tar.gz", r.Name, hex.EncodeToString(h.Sum(nil))[:16])), nil
}

func (r Rootfs) ensure(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	unlock, err := testenv.LockFile(path + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(path); err == nil {
		return nil // another process made it while we waited
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		return fmt.Errorf("runtime base %s: debootstrap not found; install it with `apt-get install debootstrap` or `make test-deps`", r.Name)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("runtime base %s: debootstrap needs root", r.Name)
	}
	work, err := os.MkdirTemp(filepath.Dir(path), r.Name+"-rootfs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	root := filepath.Join(work, "rootfs")
	start := time.Now()
	args := debootstrapArgs(r.Packages, root, DebianMirror())
	if out, err := exec.Command("debootstrap", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("debootstrap %s: %w\n%s", strings.Join(args, " "), err, tail(out, 4000))
	}
	if err := finishRootfs(root); err != nil {
		return fmt.Errorf("runtime base %s: %w", r.Name, err)
	}
	// GNU tar keeps owners, modes, symlinks and hard links exactly; device
	// nodes under /dev are left out (the runtime mounts its own /dev).
	tmp := path + ".tmp"
	tarArgs := []string{"--numeric-owner", "--sort=name", "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*",
		"-C", root, "-czf", tmp, "."}
	if out, err := exec.Command("tar", tarArgs...).CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("tar of the %s rootfs: %w\n%s", r.Name, err, tail(out, 4000))
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "e2e: built runtime base %s (%s) in %s\n", r.Name, strings.Join(r.Packages, " "), time.Since(start).Round(time.Second))
	return nil
}

// finishRootfs adds the user app and drops what an image does not need
// (downloaded packages, apt lists).
func finishRootfs(root string) error {
	for _, f := range []struct{ file, line string }{
		{"etc/passwd", fmt.Sprintf("app:x:%d:%d:app:/home/app:/bin/sh\n", AppUID, AppGID)},
		{"etc/group", fmt.Sprintf("app:x:%d:\n", AppGID)},
	} {
		fh, err := os.OpenFile(filepath.Join(root, f.file), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = fh.WriteString(f.line)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	home := filepath.Join(root, "home/app")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	if err := os.Chown(home, AppUID, AppGID); err != nil {
		return err
	}
	for _, glob := range []string{"var/cache/apt/archives/*.deb", "var/lib/apt/lists/*_*", "var/log/*.log"} {
		ms, _ := filepath.Glob(filepath.Join(root, glob))
		for _, m := range ms {
			os.Remove(m)
		}
	}
	return nil
}

// debootstrapArgs are debootstrap's arguments for a minbase Suite root
// with packages, from mirror; with no mirror ("") debootstrap uses its
// own default.
func debootstrapArgs(packages []string, root, mirror string) []string {
	args := []string{"--variant=minbase"}
	if len(packages) > 0 {
		args = append(args, "--include="+strings.Join(packages, ","))
	}
	args = append(args, Suite, root)
	if mirror != "" {
		args = append(args, mirror)
	}
	return args
}

// DebianMirror is the first http(s) Debian mirror of the host's apt sources
// (deb822 URIs: lines or one-line "deb" entries) for the main archive, else
// "": debootstrap then uses its default mirror. No mirror's host name is
// written here: the host's sources say which one this machine may use.
func DebianMirror() string {
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*")
	files = append([]string{"/etc/apt/sources.list"}, files...)
	for _, f := range files {
		if m := mirrorIn(f); m != "" {
			return m
		}
	}
	return ""
}

func mirrorIn(file string) string {
	fh, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		var uri string
		switch {
		case len(fields) >= 2 && fields[0] == "URIs:":
			uri = fields[1]
		case len(fields) >= 3 && fields[0] == "deb" && !strings.HasPrefix(fields[1], "["):
			uri = fields[1]
		}
		// The main archive, not debian-security or a third-party repo.
		if strings.HasSuffix(strings.TrimSuffix(uri, "/"), "/debian") {
			return strings.TrimSuffix(uri, "/")
		}
	}
	return ""
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
