package testenv

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// A current Docker Engine, next to Debian's dockerd 20.10 (Dockerd): its
// builder is BuildKit v0.25 with MergeOp disabled on graphdriver storage,
// which is what `docker build` meets on most hosts and CI runners today.
// It is built from the github.com/docker/docker version go.mod pins
// (v28.5.2), with Debian's containerd 1.6 and runc from docker.io.

// DockerdCurrentBinEnv names a dockerd binary DockerdCurrent runs as is
// (no build, no version check).
const DockerdCurrentBinEnv = "JBUILD_DOCKERD_CURRENT_BIN"

const (
	dockerModule    = "github.com/docker/docker"
	dockerdPkgDir   = "./cmd/dockerd"
	dockerdVersionX = dockerModule + "/dockerversion.Version"
)

// dockerdBuildTags leave out what a static (CGO_ENABLED=0) dockerd cannot
// have and the tests do not use: the btrfs and devicemapper graphdrivers
// (C libraries) and overlay2's disk quotas.
var dockerdBuildTags = []string{"exclude_graphdriver_btrfs", "exclude_graphdriver_devicemapper", "exclude_disk_quota", "netgo", "osusergo"}

// DockerdCurrentHint says how to get what DockerdCurrent needs.
const DockerdCurrentHint = "the current dockerd is built from go.mod's " + dockerModule + " (cmd/dockerd, CGO_ENABLED=0; built and cached" +
	" automatically in ~/.cache/jbuild-test/bin-dockerd, a few minutes cold; or point " + DockerdCurrentBinEnv + " at one)" +
	" and needs root, containerd and runc (`apt-get install docker.io` or `make test-deps`)"

// DockerdCurrentBinary returns the path of a dockerd built from the
// github.com/docker/docker version go.mod pins, cached in
// TestCacheDir()/bin-dockerd/dockerd with the module version next to it
// (dockerd.version) and rebuilt when go.mod pins another version.
//
// Moby is not a Go module (its requirements are in vendor.mod, and module
// zips leave vendor/ out): the module's source is copied, vendor.mod and
// vendor.sum become go.mod and go.sum, and cmd/dockerd is built with
// -mod=mod, so the dependencies are exactly the versions Moby vendors.
func DockerdCurrentBinary() (string, error) {
	return cachedBinary{
		name: "dockerd", dir: "bin-dockerd", env: DockerdCurrentBinEnv,
		want: func() (string, error) {
			version, err := pinnedModuleVersion(dockerModule)
			return dockerModule + " " + version, err
		},
		build: func(bin string) error {
			version, err := pinnedModuleVersion(dockerModule)
			if err != nil {
				return err
			}
			return buildDockerd(bin, version)
		},
		unavailable: ErrDockerdUnavailable,
	}.path()
}

// pinnedModuleVersion is the version of module go.mod resolves
// ("v28.5.2+incompatible").
func pinnedModuleVersion(module string) (string, error) {
	_, version, err := pinnedModule(module)
	return version, err
}

// buildDockerd builds cmd/dockerd of dockerModule@version into a
// temporary file next to bin and renames it into place.
func buildDockerd(bin, version string) error {
	fmt.Fprintf(os.Stderr, "testenv: building dockerd (%s %s) into %s; a cold build takes a few minutes\n", dockerModule, version, bin)
	start := time.Now()
	src, err := os.MkdirTemp("", "jbuild-moby-src-")
	if err != nil {
		return fmt.Errorf("building dockerd: %w", err)
	}
	defer os.RemoveAll(src)
	dl := exec.Command("go", "mod", "download", "-json", dockerModule+"@"+version)
	dl.Dir = src
	dl.Env = append(envWithout("GOWORK", "GOFLAGS"), "GOWORK=off")
	out, err := dl.Output()
	if err != nil {
		return fmt.Errorf("building dockerd: go mod download %s@%s: %v", dockerModule, version, err)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return fmt.Errorf("building dockerd: go mod download %s@%s: no source directory (%v %s)", dockerModule, version, err, mod.Error)
	}
	tree := filepath.Join(src, "moby")
	if err := os.CopyFS(tree, os.DirFS(mod.Dir)); err != nil {
		return fmt.Errorf("building dockerd: copying the source: %w", err)
	}
	for from, to := range map[string]string{"vendor.mod": "go.mod", "vendor.sum": "go.sum"} {
		b, err := os.ReadFile(filepath.Join(tree, from))
		if err != nil {
			return fmt.Errorf("building dockerd: %w", err)
		}
		if err := os.WriteFile(filepath.Join(tree, to), b, 0o644); err != nil {
			return fmt.Errorf("building dockerd: %w", err)
		}
	}
	if err := os.RemoveAll(filepath.Join(tree, "vendor")); err != nil {
		return fmt.Errorf("building dockerd: %w", err)
	}
	v := strings.TrimSuffix(strings.TrimPrefix(version, "v"), "+incompatible")
	cmd := exec.Command("go", "build", "-trimpath", "-tags", strings.Join(dockerdBuildTags, " "),
		"-ldflags", "-X "+dockerdVersionX+"="+v, "-o", bin, dockerdPkgDir)
	cmd.Dir = tree
	cmd.Env = append(envWithout("GOWORK", "GOFLAGS", "CGO_ENABLED"), "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building dockerd: go build %s: %v\n%s", dockerdPkgDir, err, tail(out, 4096))
	}
	fmt.Fprintf(os.Stderr, "testenv: built dockerd in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// sharedDockerdCurrent is the one current dockerd of this test binary.
var sharedDockerdCurrent struct {
	once sync.Once
	host string
	stop func()
	err  error
}

// DockerdCurrent is Dockerd for the current Docker Engine built from
// go.mod's github.com/docker/docker (DockerdCurrentBinary): a second
// daemon of its own, overlay2 storage, sharing nothing with Dockerd's but
// the registry. Main stops it. The first call may build it (minutes).
func DockerdCurrent(t testing.TB) string {
	t.Helper()
	RequireIntegration(t)
	reg := RealRegistry(t)
	sharedDockerdCurrent.once.Do(func() {
		bin, err := DockerdCurrentBinary()
		if err != nil {
			sharedDockerdCurrent.err = fmt.Errorf("starting the current dockerd: %w", err)
			return
		}
		sharedDockerdCurrent.host, _, sharedDockerdCurrent.stop, sharedDockerdCurrent.err = StartDockerdBinary(bin, reg)
	})
	if err := sharedDockerdCurrent.err; err != nil {
		if errors.Is(err, ErrDockerdUnavailable) && InCI() {
			t.Fatalf("integration tests need the current dockerd in CI: %v; %s", err, DockerdCurrentHint)
		}
		t.Fatalf("%v; %s (run `go test -short` to skip integration tests)", err, DockerdCurrentHint)
	}
	return sharedDockerdCurrent.host
}
