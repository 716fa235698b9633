package examples_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	bkclient "github.com/moby/buildkit/client"
	"github.com/tonistiigi/fsutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/jbuild-dev/jbuild/internal/testing/k8scluster"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// The cluster tests share one cluster (k8scluster.Shared, stopped by
// TestMain) and one stand-in data server on it.
var clusterAgents struct {
	once sync.Once
	s    *k8scluster.AgentServer
	err  error
}

func testCluster(t *testing.T) (*k8scluster.Cluster, *k8scluster.AgentServer) {
	t.Helper()
	c := k8scluster.Shared(t)
	clusterAgents.once.Do(func() { clusterAgents.s, clusterAgents.err = c.StartAgentServer() })
	if clusterAgents.err != nil {
		t.Fatalf("data server: %v", clusterAgents.err)
	}
	return c, clusterAgents.s
}

// testNamespace creates a namespace enforcing the restricted Pod Security
// level for t, deleted when t ends.
func testNamespace(t *testing.T, c *k8scluster.Cluster, ns string) {
	t.Helper()
	ctx := context.Background()
	if err := c.CreateNamespace(ctx, ns, "restricted"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Kubectl(ctx, nil, "delete", "namespace", ns, "--wait=false") })
}

var jbuildBin struct {
	once sync.Once
	path string
	err  error
}

// jbuildBinary is ./cmd/jbuild of this checkout, built once per test
// binary.
func jbuildBinary(t *testing.T) string {
	t.Helper()
	jbuildBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "jbuild-examples-bin-")
		if err != nil {
			jbuildBin.err = err
			return
		}
		jbuildBin.path = filepath.Join(dir, "jbuild")
		cmd := exec.Command("go", "build", "-o", jbuildBin.path, "./cmd/jbuild")
		cmd.Dir = testenv.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			jbuildBin.err = fmt.Errorf("go build ./cmd/jbuild: %v\n%s", err, out)
		}
	})
	if jbuildBin.err != nil {
		t.Fatal(jbuildBin.err)
	}
	return jbuildBin.path
}

// runJbuild runs jbuild args and returns stdout, stderr and the exit code
// (-1 when it did not run).
func runJbuild(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(jbuildBinary(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if err != nil && code <= 0 {
		t.Fatalf("jbuild %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), stderr.String(), code
}

var clusterBuilds sync.Map // sample name -> *clusterBuild

type clusterBuild struct {
	once sync.Once
	ref  string
	err  error
}

// clusterImage builds the sample's Dockerfile as buildSample does, but for
// the cluster: the agent's data server is the cluster's
// (k8scluster.DataServerIP), with the same domain id. The image is pushed
// to the test registry and imported into the cluster under that same
// reference (the node cannot reach the host's loopback registry), which
// jbuild reads from the registry and pods name.
func clusterImage(t *testing.T, c *k8scluster.Cluster, s builtSample) string {
	t.Helper()
	v, _ := clusterBuilds.LoadOrStore(s.Name, &clusterBuild{})
	b := v.(*clusterBuild)
	b.once.Do(func() {
		b.ref = testenv.Registry(t) + "/cluster/" + s.Name + ":1.0"
		if b.err = buildSample(t, s, b.ref, k8scluster.DataServerIP); b.err != nil {
			return
		}
		b.err = importFromRegistry(c, b.ref, b.ref)
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.ref
}

// importFromRegistry reads ref from the test registry and imports it
// into the cluster as as.
func importFromRegistry(c *k8scluster.Cluster, ref, as string) error {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return err
	}
	img, err := remote.Image(r)
	if err != nil {
		return err
	}
	return c.Import(context.Background(), as, img)
}

// solveSample builds the sample as buildSample does with the agent in
// agentDir. With agentDir "", it builds the Dockerfile without the jbuild
// frontend (its `# syntax=` line dropped, in a copy of the sample): the
// application image as it was before anyone monitored it.
func solveSample(t testing.TB, s builtSample, agentDir, out, serverAddr string) error {
	ctx := context.Background()
	c, err := bkclient.New(ctx, testenv.Buildkitd(t))
	if err != nil {
		return err
	}
	defer c.Close()
	dir := s.Name
	attrs := map[string]string{"filename": "Dockerfile"}
	mounts := map[string]fsutil.FS{}
	if agentDir == "" {
		if dir, err = os.MkdirTemp("", "jbuild-examples-plain-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := os.CopyFS(dir, os.DirFS(s.Name)); err != nil {
			return err
		}
		df, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
		if err != nil {
			return err
		}
		first, rest, _ := strings.Cut(string(df), "\n")
		if !strings.HasPrefix(first, "# syntax=") {
			return fmt.Errorf("%s/Dockerfile: first line %q", s.Name, first)
		}
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(rest), 0o644); err != nil {
			return err
		}
	} else {
		agentFS, err := fsutil.NewFS(agentDir)
		if err != nil {
			return err
		}
		mounts["jennifer-agent"] = agentFS
		attrs["build-arg:BUILDKIT_SYNTAX"] = testenv.FrontendImage(t)
		attrs["build-arg:JENNIFER_SERVER_ADDRESS"] = serverAddr
		attrs["build-arg:JENNIFER_DOMAIN_ID"] = fmt.Sprint(domainID)
		attrs["context:jennifer-agent"] = "local:jennifer-agent"
	}
	src, err := fsutil.NewFS(dir)
	if err != nil {
		return err
	}
	mounts["context"], mounts["dockerfile"] = src, src
	for arg, b := range s.args {
		attrs["build-arg:"+arg] = b.push(t)
	}
	opt := bkclient.SolveOpt{
		Frontend:      "dockerfile.v0",
		LocalMounts:   mounts,
		FrontendAttrs: attrs,
		Exports:       []bkclient.ExportEntry{{Type: bkclient.ExporterImage, Attrs: map[string]string{"name": out, "push": "true", "registry.insecure": "true"}}},
	}
	if err := testenv.SolveLogged(ctx, c, opt); err != nil {
		return fmt.Errorf("building %s: %w", s.Name, err)
	}
	return nil
}

// sampleDeployment is the sample's k8s/deployment.yaml naming image,
// with the greeting in the container's env, as YAML.
func sampleDeployment(t *testing.T, s sample, image string, edit func(*appsv1.Deployment)) []byte {
	t.Helper()
	d := loadManifests(t, s.Name).Deployment
	c := &d.Spec.Template.Spec.Containers[0]
	c.Image = image
	c.Env = append(c.Env, corev1.EnvVar{Name: "APP_GREETING", Value: greeting})
	if edit != nil {
		edit(d)
	}
	b, err := yaml.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// podOf waits for the rollout of deployment name in ns and returns its
// only Ready pod's name and IP.
func rolledOutPod(t *testing.T, c *k8scluster.Cluster, ns, name string) (string, string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.Kubectl(ctx, nil, "-n", ns, "rollout", "status", "deployment/"+name, "--timeout=4m"); err != nil {
		describe, _ := c.Kubectl(ctx, nil, "-n", ns, "describe", "pods")
		t.Fatalf("%v\n%s", err, describe)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := c.Kubectl(ctx, nil, "-n", ns, "get", "pods", "-l", "app.kubernetes.io/name="+name, "-o",
			`jsonpath={range .items[*]}{.metadata.name} {.status.podIP} {.status.conditions[?(@.type=="Ready")].status} {.metadata.deletionTimestamp}{"\n"}{end}`)
		if err != nil {
			t.Fatal(err)
		}
		var ready [][]string
		lines := strings.Split(strings.TrimSpace(out), "\n")
		for _, l := range lines {
			if f := strings.Fields(l); len(f) == 3 && f[2] == "True" {
				ready = append(ready, f)
			}
		}
		if len(ready) == 1 && len(lines) == 1 {
			return ready[0][0], ready[0][1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment %s/%s: want one Ready pod and no other, have:\n%s", ns, name, out)
		}
		time.Sleep(time.Second)
	}
}

// serviceGet GETs path from the Service ns/name through its ClusterIP,
// from the node (kube-proxy's rules pick the endpoint).
func serviceGet(t *testing.T, c *k8scluster.Cluster, ns, name, path string) (int, string) {
	t.Helper()
	ctx := context.Background()
	addr, err := c.Kubectl(ctx, nil, "-n", ns, "get", "service", name, "-o", "jsonpath={.spec.clusterIP}:{.spec.ports[0].port}")
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for i := 0; i < 30; i++ {
		resp, err := c.HTTPClient(5 * time.Second).Get("http://" + strings.TrimSpace(addr) + path)
		if err == nil {
			var body bytes.Buffer
			body.ReadFrom(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, body.String()
		}
		last = err
		time.Sleep(time.Second)
	}
	t.Fatalf("service %s/%s: %v", ns, name, last)
	return 0, ""
}
