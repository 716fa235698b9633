package testenv

import (
	"errors"
	"sync"
	"testing"
)

// sharedBuildkitd is the one buildkitd of this test binary.
var sharedBuildkitd struct {
	once sync.Once
	addr string
	stop func()
	err  error
}

// stopBuildkitd stops the shared buildkitd, if one was started (Main).
func stopBuildkitd() {
	if sharedBuildkitd.stop != nil {
		sharedBuildkitd.stop()
	}
}

// Buildkitd returns the address ("unix:///tmp/.../buildkitd.sock") of the
// buildkitd shared by every test of this binary, starting it (and the
// shared registry, which it trusts over plain HTTP) on first use. Main stops
// it. It skips the test under -short and fails it when buildkitd cannot
// start; the first call may build buildkitd (minutes when cold, see
// BuildkitdBinary).
func Buildkitd(t testing.TB) string {
	t.Helper()
	RequireIntegration(t)
	reg := RealRegistry(t)
	sharedBuildkitd.once.Do(func() {
		sharedBuildkitd.addr, sharedBuildkitd.stop, sharedBuildkitd.err = StartBuildkitd(reg)
	})
	if err := sharedBuildkitd.err; err != nil {
		if errors.Is(err, ErrBuildkitdUnavailable) && InCI() {
			t.Fatalf("integration tests need buildkitd in CI: %v", err)
		}
		t.Fatalf("%v (run `go test -short` to skip integration tests)", err)
	}
	return sharedBuildkitd.addr
}
