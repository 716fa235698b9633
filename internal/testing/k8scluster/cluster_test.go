package k8scluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jbuild-dev/jbuild/internal/testing/k8scluster"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, k8scluster.StopShared) }

// A cluster of its own: it starts with a Ready node, its API server
// enforces the restricted Pod Security level of a namespace (a root pod is
// refused, server-side), the metrics API answers for the node, and Stop
// leaves no link, cgroup, mount or file behind.
func TestClusterStartsEnforcesAndLeavesNothing(t *testing.T) {
	testenv.RequireIntegration(t)
	ctx := context.Background()
	start := time.Now()
	c, err := k8scluster.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	t.Logf("node Ready %s after Start", time.Since(start).Round(100*time.Millisecond))
	out, err := c.Kubectl(ctx, nil, "version", "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "gitVersion: v1.35.1+k3s1") {
		t.Errorf("kubectl version:\n%s", out)
	}
	if err := c.CreateNamespace(ctx, "restricted-check", "restricted"); err != nil {
		t.Fatal(err)
	}
	rootPod := `apiVersion: v1
kind: Pod
metadata: {name: as-root, namespace: restricted-check}
spec:
  containers: [{name: c, image: ` + k8scluster.PauseImage + `}]
`
	out, err = c.Kubectl(ctx, strings.NewReader(rootPod), "apply", "--server-side", "--dry-run=server", "-f", "-")
	if err == nil || !strings.Contains(err.Error(), `violates PodSecurity "restricted:latest"`) {
		t.Errorf("a pod without runAsNonRoot was not refused by Pod Security admission: %v %s", err, out)
	}
	if err := c.WaitMetrics(ctx, 3*time.Minute); err != nil {
		t.Errorf("%v\n%s", err, c.Logs(2000))
	}
	t.Logf("metrics API answering %s after Start", time.Since(start).Round(100*time.Millisecond))

	stop := time.Now()
	c.Stop()
	t.Logf("stopped in %s", time.Since(stop).Round(100*time.Millisecond))
	if left := c.Leftovers(); len(left) > 0 {
		t.Errorf("the stopped cluster left behind: %q", left)
	}
}
