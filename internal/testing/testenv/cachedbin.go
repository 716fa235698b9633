package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// cachedBinary is a program the tests build from a Go module once per
// machine (buildkitd, buildx, a current dockerd): a cold build takes
// minutes on 2 cores, so it is kept in TestCacheDir()/dir/name with the
// module version it was built from next to it (name.version), rebuilt when
// that version changes, and built under a file lock so test binaries
// running in parallel build it once.
type cachedBinary struct {
	name, dir string
	// env names a binary to use as is (no build, no version check).
	env string
	// module is the Go module the binary is built from: a binary put in
	// place by hand without a stamp is adopted when its build info names
	// it at the wanted version.
	module string
	// want is the stamp to match: "module version".
	want func() (string, error)
	// build writes the binary to bin (a temporary path next to the cached
	// one, renamed into place by path, so a killed build never leaves half
	// a binary).
	build func(bin string) error
	// unavailable is the error every failure wraps.
	unavailable error
}

func (c cachedBinary) path() (string, error) {
	if p := os.Getenv(c.env); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", c.unavailable, c.env, p, err)
		}
		return p, nil
	}
	want, err := c.want()
	if err != nil {
		return "", fmt.Errorf("%w: the %s version to build: %v", c.unavailable, c.name, err)
	}
	cache, err := TestCacheDir()
	if err != nil {
		return "", fmt.Errorf("%w: %v", c.unavailable, err)
	}
	dir := filepath.Join(cache, c.dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("%w: %v", c.unavailable, err)
	}
	bin := filepath.Join(dir, c.name)
	stamp := bin + ".version"
	unlock, err := LockFile(filepath.Join(dir, "."+c.name+".lock"))
	if err != nil {
		return "", fmt.Errorf("%w: %v", c.unavailable, err)
	}
	defer unlock()

	if cachedVersion(bin, stamp, c.module) == want {
		return bin, nil
	}
	tmp := fmt.Sprintf("%s.tmp-%d", bin, os.Getpid())
	defer os.Remove(tmp)
	if err := c.build(tmp); err != nil {
		return "", fmt.Errorf("%w: %v", c.unavailable, err)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("%w: %v", c.unavailable, err)
	}
	if err := os.WriteFile(stamp, []byte(want+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("%w: %v", c.unavailable, err)
	}
	return bin, nil
}

// pinnedModule is module's path and version as go.mod resolves them (a
// replace directive's, if any), asked from the go tool in the repository
// so they are exactly what `go build` there compiles.
func pinnedModule(module string) (path, version string, err error) {
	cmd := exec.Command("go", "list", "-m", "-f",
		"{{with .Replace}}{{.Path}} {{.Version}}{{else}}{{.Path}} {{.Version}}{{end}}", module)
	cmd.Dir = RepoRoot()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("go list -m %s: %v: %s", module, err, strings.TrimSpace(stderr.String()))
	}
	path, version, _ = strings.Cut(strings.TrimSpace(string(out)), " ")
	return path, version, nil
}
