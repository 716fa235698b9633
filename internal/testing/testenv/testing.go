package testenv

import (
	"errors"
	"os"
	"sync"
	"testing"
)

// shared is the one real registry of this test binary.
var shared struct {
	once sync.Once
	addr string
	stop func()
	err  error
}

// sharedInProcess is the one in-process registry of this test binary (the
// quick tier's Registry).
var sharedInProcess struct {
	once sync.Once
	addr string
	stop func()
}

// Main runs the tests, then the cleanups (Main exits the process, so a
// TestMain's defers never run), and stops the shared dockerd, buildkitd and
// registry, if they were started. Call it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M, cleanups ...func()) {
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	stopDockerd()
	stopBuildkitd()
	if shared.stop != nil {
		shared.stop()
	}
	if sharedInProcess.stop != nil {
		sharedInProcess.stop()
	}
	os.Exit(code)
}

// InCI reports whether the tests run in CI (CI=true, as GitHub Actions,
// GitLab CI and .ci/run set it).
func InCI() bool {
	v := os.Getenv("CI")
	return v == "true" || v == "1"
}

// FullTierHint says how to run what the quick tier skips.
const FullTierHint = "run `go test` without -short (`make test`; `make test-deps` installs the registry, buildkitd and dockerd it needs)"

// RequireIntegration skips the test under `go test -short` (the quick
// tier): for tests that need what only the full tier starts (buildkitd,
// dockerd, containerd, real runtimes). A test that needs a registry only
// calls Registry, which serves the quick tier in process.
func RequireIntegration(t testing.TB) {
	t.Helper()
	requireFull(t, "integration test (real daemons)")
}

// requireFull skips t under -short, saying what it needs and how to run it.
func requireFull(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("%s: skipped with -short; %s", what, FullTierHint)
	}
}

// AuthRegistry starts a registry of the test's own that takes user and
// password only (basic auth), stopped when the test ends; it skips and
// fails like RealRegistry.
func AuthRegistry(t testing.TB, user, password string) string {
	t.Helper()
	requireFull(t, "needs the real registry (basic auth)")
	addr, stop, err := StartAuthRegistry(user, password)
	if err != nil {
		registryFailed(t, err)
	}
	t.Cleanup(stop)
	return addr
}

// TokenRegistry is AuthRegistry with token auth (StartTokenRegistry): it
// returns the registry's address and its token server.
func TokenRegistry(t testing.TB, user, password string) (string, *TokenServer) {
	t.Helper()
	requireFull(t, "needs the real registry (token auth)")
	addr, ts, stop, err := StartTokenRegistry(user, password)
	if err != nil {
		registryFailed(t, err)
	}
	t.Cleanup(stop)
	return addr, ts
}

// TLSRegistry is StartTLSRegistry for a test; it skips and fails like
// RealRegistry.
func TLSRegistry(t testing.TB, requireClient bool) TLSRegistryInfo {
	t.Helper()
	requireFull(t, "needs the real registry (TLS)")
	info, stop, err := StartTLSRegistry(requireClient)
	if err != nil {
		registryFailed(t, err)
	}
	t.Cleanup(stop)
	return info
}

// registryFailed fails t for a registry that did not start, saying how to
// get one.
func registryFailed(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, ErrRegistryNotInstalled) && InCI() {
		t.Fatalf("integration tests need a registry in CI: %v", err)
	}
	t.Fatalf("%v (or run `go test -short`, the quick tier: an in-process registry, no daemons)", err)
}

// Registry returns the address ("127.0.0.1:PORT") of the registry shared by
// every test of this binary, starting it on first use. Under -short (the
// quick tier) that is an in-process registry (RegistryHandler), which needs
// no binary; otherwise it is the real one (RealRegistry). Tests whose point
// is what only distribution shows (cross-repository mounts, its storage,
// auth, TLS) or that hand the registry to a daemon call RealRegistry.
func Registry(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		return inProcessRegistry()
	}
	return RealRegistry(t)
}

// inProcessRegistry is the address of the shared in-process registry.
func inProcessRegistry() string {
	sharedInProcess.once.Do(func() {
		sharedInProcess.addr, sharedInProcess.stop = StartInProcessRegistry()
	})
	return sharedInProcess.addr
}

// RealRegistry returns the address ("127.0.0.1:PORT") of the real registry
// (docker-registry, distribution) shared by every test of this binary,
// starting it on first use. It skips the test under -short, saying how to
// run it, and fails it when the registry cannot start (missing binary
// included: a silently skipped integration suite looks like a green one;
// in CI the failure says so).
func RealRegistry(t testing.TB) string {
	t.Helper()
	requireFull(t, "needs the real registry (docker-registry)")
	shared.once.Do(func() {
		shared.addr, shared.stop, shared.err = StartRegistry()
	})
	if shared.err != nil {
		registryFailed(t, shared.err)
	}
	return shared.addr
}
