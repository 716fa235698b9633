package testenv

import (
	"context"
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

// BuildxVersion is the docker/buildx release the tests run as the docker
// CLI's buildx plugin, built from its module (buildx is a program the tests
// run, not a dependency of jbuild's module, so go.mod does not pin it).
// v0.19.3 is the newest release that builds here without a newer Go
// toolchain than the repository's, and it has everything the tests use:
// the docker and remote drivers, --build-context, --call and --check.
const BuildxVersion = "v0.19.3"

const (
	buildxModule = "github.com/docker/buildx"
	buildxPkg    = buildxModule + "/cmd/buildx"
)

// Environment variables that steer the docker CLI and buildx of the tests.
const (
	// BuildxBinEnv names a buildx binary to use as is (no build, no
	// version check).
	BuildxBinEnv = "JBUILD_BUILDX_BIN"
	// DockerCLIEnv names the docker CLI to run (default: docker from PATH).
	DockerCLIEnv = "JBUILD_DOCKER_CLI"
)

// ErrBuildxUnavailable is returned (wrapped) when the buildx plugin cannot
// be built here (no go toolchain, no module proxy, failed build) or there
// is no docker CLI to run it.
var ErrBuildxUnavailable = errors.New("docker buildx unavailable")

// BuildxHint says how to get what Buildx needs.
const BuildxHint = "docker buildx needs the docker CLI (`apt-get install docker.io` or `make test-deps`, or point " +
	DockerCLIEnv + " at one) and buildx " + BuildxVersion + " built from " + buildxModule +
	" (built and cached automatically in ~/.cache/jbuild-test/bin-buildx, about 5 minutes cold;" +
	" or point " + BuildxBinEnv + " at one)"

// BuildxBinary returns the path of a buildx binary built from
// github.com/docker/buildx at BuildxVersion with `go install`. It is
// cached in TestCacheDir()/bin-buildx/buildx with the module version next
// to it (buildx.version) and rebuilt when BuildxVersion changes; a binary
// put there by hand (`GOBIN=~/.cache/jbuild-test/bin-buildx go install
// github.com/docker/buildx/cmd/buildx@v0.19.3`) is adopted from its Go
// build info. A cold build takes about 5 minutes on 2 cores. A file lock
// keeps test binaries running in parallel from building it twice.
func BuildxBinary() (string, error) {
	return cachedBinary{
		name: "buildx", dir: "bin-buildx", env: BuildxBinEnv, module: buildxModule,
		want:        func() (string, error) { return buildxModule + " " + BuildxVersion, nil },
		build:       buildBuildx,
		unavailable: ErrBuildxUnavailable,
	}.path()
}

// buildBuildx runs `go install buildx@BuildxVersion` into a temporary
// GOBIN next to bin and renames the result into place, so a killed build
// never leaves half a binary. It runs outside the repository (GOWORK=off):
// `go install pkg@version` builds with buildx's own go.mod.
func buildBuildx(bin string) error {
	gobin, err := os.MkdirTemp(filepath.Dir(bin), ".gobin-")
	if err != nil {
		return fmt.Errorf("building buildx: %w", err)
	}
	defer os.RemoveAll(gobin)
	fmt.Fprintf(os.Stderr, "testenv: building buildx %s into %s; a cold build takes about 5 minutes\n", BuildxVersion, bin)
	start := time.Now()
	cmd := exec.Command("go", "install", buildxPkg+"@"+BuildxVersion)
	cmd.Dir = gobin
	cmd.Env = append(envWithout("GOBIN", "GOWORK", "GOFLAGS"), "GOBIN="+gobin, "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("building buildx: go install %s@%s: %v\n%s", buildxPkg, BuildxVersion, err, tail(out, 4096))
	}
	if err := os.Rename(filepath.Join(gobin, "buildx"), bin); err != nil { // same folder
		return fmt.Errorf("building buildx: %w", err)
	}
	fmt.Fprintf(os.Stderr, "testenv: built buildx in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// envWithout is the process environment without the named variables.
func envWithout(names ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			if k == n {
				drop = true
			}
		}
		if !drop {
			env = append(env, kv)
		}
	}
	return env
}

// DockerCLIBinary returns the docker CLI the tests run: $JBUILD_DOCKER_CLI,
// else docker from PATH.
func DockerCLIBinary() (string, error) {
	if p := os.Getenv(DockerCLIEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrBuildxUnavailable, DockerCLIEnv, p, err)
		}
		return p, nil
	}
	p, err := exec.LookPath("docker")
	if err != nil {
		return "", fmt.Errorf("%w: no docker CLI in PATH", ErrBuildxUnavailable)
	}
	return p, nil
}

// buildxBinary is BuildxBinary once per test binary.
var buildxBinary struct {
	once sync.Once
	bin  string
	err  error
}

// DockerCLI is the docker CLI of one test, as a user has it: its own
// DOCKER_CONFIG directory with buildx installed as a CLI plugin
// (cli-plugins/docker-buildx), talking to one test dockerd (DOCKER_HOST).
// Its default builder is buildx's docker driver on that daemon (Docker
// Engine's own builder), as on a CI runner.
type DockerCLI struct {
	// Bin is the docker CLI.
	Bin string
	// Config is DOCKER_CONFIG.
	Config string
	// Host is DOCKER_HOST, the dockerd the CLI talks to.
	Host string
	// env is the environment of every command: the test's, without any
	// DOCKER_*, BUILDX_* and BUILDKIT_* variable, plus DOCKER_CONFIG and
	// DOCKER_HOST.
	env []string
}

// Buildx returns a DockerCLI on the dockerd shared by the tests (Dockerd).
// It skips under -short and fails the test when buildx or the docker CLI
// cannot be had (in CI too, saying what to install).
func Buildx(t testing.TB) *DockerCLI {
	t.Helper()
	return BuildxOn(t, Dockerd(t))
}

// BuildxOn is Buildx on the dockerd at dockerHost ("unix:///...").
func BuildxOn(t testing.TB, dockerHost string) *DockerCLI {
	t.Helper()
	RequireIntegration(t)
	buildxBinary.once.Do(func() { buildxBinary.bin, buildxBinary.err = BuildxBinary() })
	cli, err := DockerCLIBinary()
	if err == nil {
		err = buildxBinary.err
	}
	if err != nil {
		if InCI() {
			t.Fatalf("integration tests need docker buildx in CI: %v; %s", err, BuildxHint)
		}
		t.Fatalf("%v; %s (run `go test -short` to skip integration tests)", err, BuildxHint)
	}
	d, err := NewDockerCLI(cli, buildxBinary.bin, dockerHost, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// NewDockerCLI is BuildxOn outside a test (the bench): the docker CLI cli
// with buildxBin as its buildx plugin, its DOCKER_CONFIG in the existing
// empty directory cfg, talking to the dockerd at dockerHost. See
// DockerCLIBinary and BuildxBinary for cli and buildxBin.
func NewDockerCLI(cli, buildxBin, dockerHost, cfg string) (*DockerCLI, error) {
	plugins := filepath.Join(cfg, "cli-plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		return nil, err
	}
	if err := os.Symlink(buildxBin, filepath.Join(plugins, "docker-buildx")); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cfg, "config.json"), []byte("{}\n"), 0o600); err != nil {
		return nil, err
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_") && !strings.HasPrefix(kv, "BUILDX_") && !strings.HasPrefix(kv, "BUILDKIT_") {
			env = append(env, kv)
		}
	}
	env = append(env, "DOCKER_CONFIG="+cfg, "DOCKER_HOST="+dockerHost)
	return &DockerCLI{Bin: cli, Config: cfg, Host: dockerHost, env: env}, nil
}

// Command is `docker args...` with the test's DOCKER_CONFIG and
// DOCKER_HOST; extraEnv (KEY=VALUE) is added to its environment.
func (d *DockerCLI) Command(ctx context.Context, extraEnv []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, d.Bin, args...)
	cmd.Env = append(append([]string(nil), d.env...), extraEnv...)
	return cmd
}

// Env is the environment of the CLI's commands (for a shell script that
// runs docker itself, as a CI step does).
func (d *DockerCLI) Env() []string { return append([]string(nil), d.env...) }

// Run runs `docker args...` within 10 minutes and returns its combined
// output; err says the command and its exit status.
func (d *DockerCLI) Run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := d.Command(ctx, nil, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// MustRun is Run that fails t with the output on an error.
func (d *DockerCLI) MustRun(t testing.TB, args ...string) string {
	t.Helper()
	out, err := d.Run(args...)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// RemoteBuilder is the name of the buildx builder RemoteBuilder creates.
const RemoteBuilder = "jbuild-remote"

// RemoteBuilder creates, in d's configuration, the buildx builder
// "jbuild-remote" with the remote driver on the buildkitd shared by the
// tests (Buildkitd), as `docker buildx create --driver remote` does for a
// user with a buildkitd of their own, checks that it answers and returns
// its name, for `docker buildx build --builder NAME`.
func (d *DockerCLI) RemoteBuilder(t testing.TB) string {
	t.Helper()
	addr := Buildkitd(t)
	d.MustRun(t, "buildx", "create", "--name", RemoteBuilder, "--driver", "remote", addr)
	d.MustRun(t, "buildx", "inspect", "--bootstrap", RemoteBuilder)
	return RemoteBuilder
}

// ServerVersion is the version of the dockerd d talks to ("20.10.24+dfsg1").
func (d *DockerCLI) ServerVersion(t testing.TB) string {
	t.Helper()
	return strings.TrimSpace(d.MustRun(t, "version", "--format", "{{.Server.Version}}"))
}
