package testenv

import (
	"errors"
	"sync"
	"testing"
)

// sharedDockerd is the one dockerd (and its containerd) of this test binary.
var sharedDockerd struct {
	once       sync.Once
	host       string
	containerd string
	stop       func()
	err        error
}

// stopDockerd stops the shared dockerd, if one was started (Main).
func stopDockerd() {
	if sharedDockerd.stop != nil {
		sharedDockerd.stop()
	}
	if sharedDockerdCurrent.stop != nil {
		sharedDockerdCurrent.stop()
	}
}

// Dockerd returns the DOCKER_HOST ("unix:///tmp/.../docker.sock") of the
// dockerd shared by every test of this binary, starting it (and the shared
// registry, which it trusts over plain HTTP) on first use. Main stops it.
// It skips the test under -short and fails it when dockerd cannot start; in
// CI the failure says what to install.
func Dockerd(t testing.TB) string {
	t.Helper()
	RequireIntegration(t)
	reg := RealRegistry(t)
	sharedDockerd.once.Do(func() {
		sharedDockerd.host, sharedDockerd.containerd, sharedDockerd.stop, sharedDockerd.err = StartDockerd(reg)
	})
	if err := sharedDockerd.err; err != nil {
		if errors.Is(err, ErrDockerdUnavailable) && InCI() {
			t.Fatalf("integration tests need dockerd in CI: %v", err)
		}
		t.Fatalf("%v (run `go test -short` to skip integration tests)", err)
	}
	return sharedDockerd.host
}

// Containerd returns the socket path of the containerd the shared dockerd
// started (see Dockerd). Its k8s.io namespace is free for tests (dockerd
// keeps its containers in the moby namespace).
func Containerd(t testing.TB) string {
	t.Helper()
	Dockerd(t)
	return sharedDockerd.containerd
}
