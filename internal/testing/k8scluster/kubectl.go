package k8scluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// KubectlPath is the cluster's own kubectl (k3s under that name): Debian's
// kubernetes-client is 1.20, too old for this API server.
func (c *Cluster) KubectlPath() string { return filepath.Join(c.Dir, "bin", "kubectl") }

// KubectlCommand is kubectl args against the cluster (KUBECONFIG set).
func (c *Cluster) KubectlCommand(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.KubectlPath(), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
	return cmd
}

// Kubectl runs kubectl args with stdin (may be nil) and returns its
// stdout; a failure carries its stderr.
func (c *Cluster) Kubectl(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	stdout, _, err := c.KubectlStderr(ctx, stdin, args...)
	return stdout, err
}

// KubectlStderr is Kubectl that also returns stderr, where kubectl prints
// the API server's warnings ("Warning: would violate PodSecurity ...").
func (c *Cluster) KubectlStderr(ctx context.Context, stdin io.Reader, args ...string) (stdout, stderr string, err error) {
	cmd := c.KubectlCommand(ctx, args...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), errb.String(), fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), errb.String(), nil
}

// CreateNamespace creates namespace ns enforcing (and warning and
// auditing at) the Pod Security level, as a cluster admin would for an
// application team, and waits for its default ServiceAccount (pods are
// refused until the controller has made it).
func (c *Cluster) CreateNamespace(ctx context.Context, ns, level string) error {
	yaml := fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %s
  labels:
    pod-security.kubernetes.io/enforce: %s
    pod-security.kubernetes.io/enforce-version: latest
    pod-security.kubernetes.io/warn: %[2]s
    pod-security.kubernetes.io/audit: %[2]s
`, ns, level)
	if _, err := c.Kubectl(ctx, strings.NewReader(yaml), "apply", "--server-side", "-f", "-"); err != nil {
		return err
	}
	return c.waitFor("ServiceAccount default in "+ns, time.Minute, func() (bool, error) {
		_, err := c.Kubectl(ctx, nil, "-n", ns, "get", "serviceaccount", "default")
		return err == nil, nil
	})
}

// WaitMetrics waits until the metrics API answers with the node's usage
// (metrics-server is up and has scraped the kubelet once): the
// HorizontalPodAutoscaler's CPU metric comes from there.
func (c *Cluster) WaitMetrics(ctx context.Context, timeout time.Duration) error {
	return c.waitFor("the metrics API (metrics-server)", timeout, func() (bool, error) {
		out, err := c.Kubectl(ctx, nil, "get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes/"+NodeName)
		return err == nil && strings.Contains(out, `"usage"`), nil
	})
}
