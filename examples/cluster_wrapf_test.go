package examples_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/internal/testing/e2e"
	"github.com/jbuild-dev/jbuild/internal/testing/k8scluster"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// `jbuild wrap -f` on a running app: the Java sample built from its
// Dockerfile without the frontend runs unmonitored from its Deployment
// (no agent connects); wrap -f rewrites the Deployment's image to the
// monitored variant pinned by digest, and `kubectl apply` rolls out a pod
// that runs exactly that digest and whose agent connects with the domain
// id given to wrap.
func TestClusterWrapFileRollsOutMonitoredImage(t *testing.T) {
	c, agents := testCluster(t)
	s := builtSamples[0]
	ns := "wrap-f"
	testNamespace(t, c, ns)
	ctx := context.Background()

	plain := testenv.Registry(t) + "/wrap-f/" + s.Name + ":1.0"
	if err := solveSample(t, s, "", plain, ""); err != nil {
		t.Fatal(err)
	}
	if err := importFromRegistry(c, plain, plain); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	deploy := filepath.Join(dir, "deployment.yaml")
	if err := os.WriteFile(deploy, sampleDeployment(t, s.sample, plain, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Kubectl(ctx, nil, "-n", ns, "apply", "-f", filepath.Join(s.Name, "k8s", "service.yaml"), "-f", deploy); err != nil {
		t.Fatal(err)
	}
	pod, ip := rolledOutPod(t, c, ns, s.Name)
	if code, body := serviceGet(t, c, ns, s.Name, "/"); code != 200 || body != greeting+"\n" {
		t.Errorf("the unmonitored app: %d %q", code, body)
	}
	if r, ok := agents.Reports()[ip]; ok {
		t.Fatalf("pod %s runs the unmonitored image, yet an agent connected: %q", pod, r.Line)
	}

	agentDir, err := e2e.JavaAgent(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runJbuild(t, "wrap", "-f", deploy, "--agent", agentDir,
		"--server-address", k8scluster.DataServerIP, "--domain-id", "4242")
	if code != 0 {
		t.Fatalf("jbuild wrap -f: exit %d\n%s%s", code, stdout, stderr)
	}
	rewritten, err := os.ReadFile(deploy)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`image: (\S+:1\.0-jennifer)@(sha256:[0-9a-f]{64})\n`).FindSubmatch(rewritten)
	if m == nil {
		t.Fatalf("wrap -f did not pin the monitored image in the Deployment:\n%s", rewritten)
	}
	tagged, digest := string(m[1]), string(m[2])
	if strings.TrimSpace(stdout) != tagged+"@"+digest {
		t.Errorf("wrap -f printed %q, the Deployment names %s@%s", stdout, tagged, digest)
	}
	// As a pull would: the image under its tag and under its digest.
	for _, as := range []string{tagged, strings.TrimSuffix(tagged, ":1.0-jennifer") + "@" + digest} {
		if err := importFromRegistry(c, tagged+"@"+digest, as); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Kubectl(ctx, nil, "-n", ns, "apply", "-f", deploy); err != nil {
		t.Fatal(err)
	}
	pod, ip = rolledOutPod(t, c, ns, s.Name)
	waitAgent(t, agents, pod, ip, s.agentType)
	imageID, err := c.Kubectl(ctx, nil, "-n", ns, "get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].imageID}")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(imageID, digest) {
		t.Errorf("pod %s runs %s, want the digest wrap -f wrote (%s)", pod, imageID, digest)
	}
	if code, body := serviceGet(t, c, ns, s.Name, "/"); code != 200 || body != greeting+"\n" {
		t.Errorf("the monitored app: %d %q", code, body)
	}
}
