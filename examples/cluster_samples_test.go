package examples_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jbuild-dev/jbuild/internal/testing/k8scluster"
)

// deploySample applies the sample's Service and HPA and its Deployment
// (naming image, with the greeting in its env) into ns, waits for the
// rollout and returns the pod's name and IP.
func deploySample(t *testing.T, c *k8scluster.Cluster, ns string, s sample, deployment []byte) (string, string) {
	t.Helper()
	ctx := context.Background()
	for _, f := range []string{"service.yaml", "hpa.yaml"} {
		if _, err := c.Kubectl(ctx, nil, "-n", ns, "apply", "-f", filepath.Join(s.Name, "k8s", f)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Kubectl(ctx, bytes.NewReader(deployment), "-n", ns, "apply", "-f", "-"); err != nil {
		t.Fatal(err)
	}
	return rolledOutPod(t, c, ns, s.Name)
}

// waitAgent waits up to 90s for the agent of the pod at ip to report, and
// checks it sent the build's domain id.
func waitAgent(t *testing.T, agents *k8scluster.AgentServer, pod, ip, agentType string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	r, ok := agents.Wait(ctx, ip)
	if !ok {
		t.Errorf("pod %s (%s): its agent never connected to the data server", pod, ip)
		return
	}
	if want := fmt.Sprintf("JENNIFER domain_id=%d agent=%s", domainID, agentType); r.Line != want {
		t.Errorf("pod %s (%s): its agent sent %q, want %q", pod, ip, r.Line, want)
	}
}

// The monitored Java, Node.js, Python and PHP samples, built from their
// Dockerfiles with the jbuild frontend for the cluster's data server, run
// as pods of their own k8s/ Deployment in namespaces that enforce the
// restricted level: each pod's agent connects from the pod's IP with the
// build's domain id, and the app answers through its Service, with the
// greeting the Deployment's env gives it.
func TestClusterRunsMonitoredSamples(t *testing.T) {
	c, agents := testCluster(t)
	for _, s := range builtSamples {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			ns := "sample-" + s.agentType
			testNamespace(t, c, ns)
			ref := clusterImage(t, c, s)
			pod, ip := deploySample(t, c, ns, s.sample, sampleDeployment(t, s.sample, ref, nil))
			waitAgent(t, agents, pod, ip, s.agentType)
			for path, want := range map[string]string{"/": greeting + "\n", "/health": "ok\n"} {
				if code, body := serviceGet(t, c, ns, s.Name, path); code != 200 || body != want {
					t.Errorf("service %s%s: %d %q, want 200 %q", s.Name, path, code, body, want)
				}
			}
			if t.Failed() {
				logs, _ := c.Kubectl(context.Background(), nil, "-n", ns, "logs", pod)
				t.Logf("pod %s logs:\n%s", pod, logs)
			}
		})
	}
}

// What `jbuild k8s` renders for each monitored sample image, read from
// the registry (profile, user, port and writable directories from the
// image), runs as is in a restricted namespace: the Deployment's pod
// starts, its agent connects with the build's domain id, and the app
// answers through the rendered Service.
func TestClusterRunsJbuildK8sRenderings(t *testing.T) {
	c, agents := testCluster(t)
	for _, s := range builtSamples {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			ns := "rendered-" + s.agentType
			testNamespace(t, c, ns)
			ref := clusterImage(t, c, s)
			// A small CPU request: eight sample pods of these tests may
			// share the node's two CPUs for a while.
			yaml, stderr, code := runJbuild(t, "k8s", ref, "--namespace", ns, "--cpu-request", "100m")
			if code != 0 {
				t.Fatalf("jbuild k8s %s: exit %d\n%s", ref, code, stderr)
			}
			if _, err := c.Kubectl(context.Background(), strings.NewReader(yaml), "apply", "-f", "-"); err != nil {
				t.Fatalf("%v\n%s", err, yaml)
			}
			pod, ip := rolledOutPod(t, c, ns, s.Name)
			waitAgent(t, agents, pod, ip, s.agentType)
			if code, body := serviceGet(t, c, ns, s.Name, "/health"); code != 200 || body != "ok\n" {
				t.Errorf("service %s/health: %d %q", s.Name, code, body)
			}
			if t.Failed() {
				logs, _ := c.Kubectl(context.Background(), nil, "-n", ns, "logs", pod)
				t.Logf("rendered manifests:\n%s\npod %s logs:\n%s", yaml, pod, logs)
			}
		})
	}
}
