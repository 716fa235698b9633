package testenv

import (
	"errors"
	"os"
	"sync"
	"testing"
)

// shared is the one registry of this test binary.
var shared struct {
	once sync.Once
	addr string
	stop func()
	err  error
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
	os.Exit(code)
}

// InCI reports whether the tests run in CI (CI=true, as GitHub Actions,
// GitLab CI and .ci/run set it).
func InCI() bool {
	v := os.Getenv("CI")
	return v == "true" || v == "1"
}

// RequireIntegration skips the test under `go test -short`.
func RequireIntegration(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
}

// AuthRegistry starts a registry of the test's own that takes user and
// password only (basic auth), stopped when the test ends; it skips and
// fails like Registry.
func AuthRegistry(t testing.TB, user, password string) string {
	t.Helper()
	RequireIntegration(t)
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
	RequireIntegration(t)
	addr, ts, stop, err := StartTokenRegistry(user, password)
	if err != nil {
		registryFailed(t, err)
	}
	t.Cleanup(stop)
	return addr, ts
}

// TLSRegistry is StartTLSRegistry for a test; it skips and fails like
// Registry.
func TLSRegistry(t testing.TB, requireClient bool) TLSRegistryInfo {
	t.Helper()
	RequireIntegration(t)
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
	t.Fatalf("%v (run `go test -short` to skip integration tests)", err)
}

// Registry returns the address ("127.0.0.1:PORT") of the registry shared by
// every test of this binary, starting it on first use. It skips the test
// under -short and fails it when the registry cannot start (missing binary
// included: a silently skipped integration suite looks like a green one).
func Registry(t testing.TB) string {
	t.Helper()
	RequireIntegration(t)
	shared.once.Do(func() {
		shared.addr, shared.stop, shared.err = StartRegistry()
	})
	if shared.err != nil {
		registryFailed(t, shared.err)
	}
	return shared.addr
}
