package k8scluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// k3s is not a dependency of jbuild (it would pull Kubernetes' whole tree
// into go.mod): the tests build it from its own module, in a copy of the
// module's source, as k3s's Makefile would without its download steps.
// k3s tags are not module versions (`@v1.35.1+k3s1` is refused), so the
// pin is the pseudo-version `go mod download github.com/k3s-io/k3s@latest`
// resolved on 2026-12-07: master after v1.35.1+k3s1, Kubernetes v1.35.1.
const (
	K3sModule  = "github.com/k3s-io/k3s"
	K3sVersion = "v1.35.1-0.20260211145931-c5b158798933"
	// k3sKubernetes is the Kubernetes version that k3s pin replaces
	// k8s.io/kubernetes with (github.com/k3s-io/kubernetes v1.35.1-k3s1).
	k3sKubernetes = "v1.35.1+k3s1"
	// k3sCommit is the pseudo-version's commit, as k3s's version string
	// carries it.
	k3sCommit = "c5b15879"
)

// MetricsServerModule is metrics-server, built the same way; v0.8.1 is the
// version k3s's own manifest names (v0.9 needs a newer Go than the
// project's).
const (
	MetricsServerModule  = "sigs.k8s.io/metrics-server"
	MetricsServerVersion = "v0.8.1"
)

// Environment variables naming prebuilt binaries to use instead.
const (
	K3sBinEnv           = "JBUILD_TEST_K3S"
	MetricsServerBinEnv = "JBUILD_TEST_METRICS_SERVER"
)

// ErrUnavailable is wrapped by every error that means the cluster cannot
// start on this machine (a missing package, a binary that does not build).
var ErrUnavailable = errors.New("the test Kubernetes cluster is not available")

// Hint says what the cluster needs.
const Hint = "the cluster needs root, Debian's containerd, runc, containernetworking-plugins, iproute2 and util-linux " +
	"(`make test-deps` installs them) and builds k3s and metrics-server from their Go modules " +
	"(cached in ~/.cache/jbuild-test/bin-k8s; a cold k3s build takes about 10 minutes and 4 GB of GOCACHE)"

// k3sTags are the build tags k3s's scripts/build uses for a dynamic
// build, without cri-dockerd.
const k3sTags = "ctrd netcgo osusergo providerless urfave_cli_no_docs sqlite_omit_load_extension no_cri_dockerd"

// K3sBinary returns the k3s binary (server, agent, kubectl, crictl and ctr
// in one: it dispatches on argv[0]), built once per machine.
func K3sBinary() (string, error) {
	return testenv.CachedBinary{
		Name: "k3s", Dir: "bin-k8s", Env: K3sBinEnv, Module: K3sModule,
		Want:        func() (string, error) { return K3sModule + " " + K3sVersion + " " + goVersion(), nil },
		Build:       buildK3s,
		Unavailable: ErrUnavailable,
	}.Path()
}

// MetricsServerBinary returns metrics-server, static, built once per
// machine.
func MetricsServerBinary() (string, error) {
	return testenv.CachedBinary{
		Name: "metrics-server", Dir: "bin-k8s", Env: MetricsServerBinEnv, Module: MetricsServerModule,
		Want:        func() (string, error) { return MetricsServerModule + " " + MetricsServerVersion, nil },
		Build:       buildMetricsServer,
		Unavailable: ErrUnavailable,
	}.Path()
}

// goVersion is the go tool's version (go1.26.8): k3s refuses to start
// unless pkg/version.UpstreamGolang equals the runtime's version.
func goVersion() string {
	out, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func buildK3s(bin string) error {
	src, cleanup, err := moduleCopy(K3sModule, K3sVersion)
	if err != nil {
		return fmt.Errorf("building k3s: %w", err)
	}
	defer cleanup()
	// The manifests k3s deploys at start (metrics-server among them) are
	// embedded from pkg/deploy/embed, which its build script fills.
	if out, err := exec.Command("cp", "-r", filepath.Join(src, "manifests")+"/.", filepath.Join(src, "pkg/deploy/embed")).CombinedOutput(); err != nil {
		return fmt.Errorf("building k3s: copying its manifests: %v: %s", err, out)
	}
	x := func(pkg, name, v string) string { return "-X " + pkg + "." + name + "=" + v }
	ldflags := strings.Join([]string{
		x(K3sModule+"/pkg/version", "Version", "v1.35.1+k3s-"+k3sCommit),
		x(K3sModule+"/pkg/version", "GitCommit", k3sCommit),
		x(K3sModule+"/pkg/version", "UpstreamGolang", goVersion()),
		x("k8s.io/client-go/pkg/version", "gitVersion", k3sKubernetes),
		x("k8s.io/client-go/pkg/version", "gitMajor", "1"),
		x("k8s.io/client-go/pkg/version", "gitMinor", "35"),
		x("k8s.io/component-base/version", "gitVersion", k3sKubernetes),
		x("k8s.io/component-base/version", "gitMajor", "1"),
		x("k8s.io/component-base/version", "gitMinor", "35"),
	}, " ")
	return goBuild("k3s", src, bin, "1", []string{"-tags", k3sTags, "-ldflags", ldflags}, "./cmd/server")
}

func buildMetricsServer(bin string) error {
	src, cleanup, err := moduleCopy(MetricsServerModule, MetricsServerVersion)
	if err != nil {
		return fmt.Errorf("building metrics-server: %w", err)
	}
	defer cleanup()
	return goBuild("metrics-server", src, bin, "0", []string{"-ldflags", "-s -w"}, "./cmd/metrics-server")
}

// goBuild runs go build in a module's source copy (-trimpath: the copy's
// temporary path must not change the build cache keys, so a rebuild after
// a stamp change reuses the compiled packages).
func goBuild(what, dir, bin, cgo string, flags []string, pkg string) error {
	fmt.Fprintf(os.Stderr, "k8scluster: building %s into %s (cached; a cold build takes minutes)\n", what, bin)
	start := time.Now()
	args := append([]string{"build", "-trimpath", "-o", bin}, flags...)
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED="+cgo)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("building %s: go build %s: %v\n%s", what, pkg, err, tailString(out, 4096))
	}
	fmt.Fprintf(os.Stderr, "k8scluster: built %s in %s\n", what, time.Since(start).Round(time.Second))
	return nil
}

// moduleCopy downloads module@version into the module cache and copies its
// source to a writable temporary directory (the module cache is read-only
// and the build writes go.sum). It never touches jbuild's go.mod.
func moduleCopy(module, version string) (dir string, cleanup func(), err error) {
	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = os.TempDir() // outside any module
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr != nil || info.Dir == "" {
		return "", nil, fmt.Errorf("go mod download %s@%s: %v %s", module, version, err, info.Error)
	}
	tmp, err := os.MkdirTemp("", "jbuild-k8s-src-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	dir = filepath.Join(tmp, "src")
	if out, err := exec.Command("cp", "-r", info.Dir, dir).CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("copying %s: %v: %s", info.Dir, err, out)
	}
	if out, err := exec.Command("chmod", "-R", "u+w", dir).CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("chmod %s: %v: %s", dir, err, out)
	}
	return dir, cleanup, nil
}

func tailString(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
