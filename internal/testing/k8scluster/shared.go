package k8scluster

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

var shared struct {
	once    sync.Once
	cluster *Cluster
	err     error
}

// Shared returns the cluster shared by every test of this test binary,
// starting it on first use; StopShared (from TestMain, through
// testenv.Main's cleanups) stops it. It skips the test under -short and
// fails it when the cluster cannot start; in CI the failure says what to
// install.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	testenv.RequireIntegration(t)
	shared.once.Do(func() { shared.cluster, shared.err = Start(context.Background()) })
	if err := shared.err; err != nil {
		if errors.Is(err, ErrUnavailable) && testenv.InCI() {
			t.Fatalf("integration tests need the test Kubernetes cluster in CI: %v", err)
		}
		t.Fatalf("%v (run `go test -short` to skip integration tests)", err)
	}
	return shared.cluster
}

// StopShared stops the shared cluster, if one was started:
//
//	func TestMain(m *testing.M) { testenv.Main(m, k8scluster.StopShared) }
func StopShared() {
	if shared.cluster != nil {
		shared.cluster.Stop()
	}
}
