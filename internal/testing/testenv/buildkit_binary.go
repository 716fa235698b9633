package testenv

import (
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Environment variables that steer where the buildkitd binary comes from.
const (
	// BuildkitdBinEnv names a buildkitd binary to use as is (no build, no
	// version check).
	BuildkitdBinEnv = "JBUILD_BUILDKITD_BIN"
	// TestCacheEnv overrides the cache directory of test binaries
	// (default ~/.cache/jbuild-test); buildkitd is cached in its bin/.
	TestCacheEnv = "JBUILD_TEST_CACHE"
)

// buildkitModule is the module buildkitd is built from, at the version the
// repository's go.mod pins.
const (
	buildkitModule = "github.com/moby/buildkit"
	buildkitdPkg   = buildkitModule + "/cmd/buildkitd"
)

// ErrBuildkitdUnavailable is returned (wrapped) when buildkitd cannot be
// built or run here (no go toolchain, failed build, missing runc, not root).
var ErrBuildkitdUnavailable = errors.New("buildkitd unavailable")

// BuildkitdHint says how to get what StartBuildkitd needs on Debian.
const BuildkitdHint = "buildkitd needs root, runc (`apt-get install runc` or `make test-deps`) and a" +
	" buildkitd built from go.mod's " + buildkitModule + " (built and cached automatically;" +
	" or point " + BuildkitdBinEnv + " at one)"

// TestCacheDir is the directory where test binaries keep what is expensive
// to rebuild: $JBUILD_TEST_CACHE, else ~/.cache/jbuild-test.
func TestCacheDir() (string, error) {
	if d := os.Getenv(TestCacheEnv); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "jbuild-test"), nil
}

// BuildkitdBinary returns the path of a buildkitd binary built from the
// github.com/moby/buildkit version pinned in go.mod. The binary is cached in
// TestCacheDir()/bin/buildkitd with the module version it was built from
// next to it (buildkitd.version); it is rebuilt when go.mod pins another
// version. A cold build takes 1.5 minutes on 2 cores with the modules
// already downloaded (a few more without). A file lock keeps
// test binaries running in parallel from building it twice.
func BuildkitdBinary() (string, error) {
	return cachedBinary{
		name: "buildkitd", dir: "bin", env: BuildkitdBinEnv, module: buildkitModule,
		want: func() (string, error) {
			path, version, err := pinnedModule(buildkitModule)
			return path + " " + version, err
		},
		build:       buildBuildkitd,
		unavailable: ErrBuildkitdUnavailable,
	}.path()
}

// cachedVersion is the version of module the cached binary was built
// from: the stamp file's, or, for a binary built by hand without a stamp,
// the one its Go build info records. "" when there is no usable binary.
func cachedVersion(bin, stamp, module string) string {
	if _, err := os.Stat(bin); err != nil {
		return ""
	}
	if b, err := os.ReadFile(stamp); err == nil {
		return strings.TrimSpace(string(b))
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil || bi.Main.Path != module || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return ""
	}
	v := bi.Main.Path + " " + bi.Main.Version
	os.WriteFile(stamp, []byte(v+"\n"), 0o644) // adopt it; best effort
	return v
}

// buildBuildkitd builds buildkitd from go.mod's buildkit into bin.
func buildBuildkitd(bin string) error {
	fmt.Fprintf(os.Stderr, "testenv: building buildkitd (%s) into %s; a cold build takes a few minutes\n", buildkitModule, bin)
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", bin, buildkitdPkg)
	cmd.Dir = RepoRoot()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("building buildkitd: go build %s: %v\n%s", buildkitdPkg, err, tail(out, 4096))
	}
	fmt.Fprintf(os.Stderr, "testenv: built buildkitd in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// LockFile takes an exclusive flock on path, waiting for other holders:
// test binaries running in parallel build a cached binary or image once.
func LockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}
