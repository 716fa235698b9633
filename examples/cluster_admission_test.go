package examples_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/jbuild-dev/jbuild/internal/testing/k8scluster"
)

// psaViolation is how the API server words a Pod Security violation, as a
// warning (workloads in a namespace with the warn label) or as a refusal
// (pods in a namespace with the enforce label).
const psaViolation = `violates PodSecurity "restricted:latest"`

// admit applies manifests (a file or a directory) server-side with a
// server dry-run into ns, which enforces and warns at the restricted
// level: it fails on a refusal and on any warning. Then each Deployment's
// pod template, as a Pod, is created with a server dry-run: Pod Security
// enforcement applies to pods, so this is where a violation is refused.
func admit(t *testing.T, c *k8scluster.Cluster, ns, what, manifests string) {
	t.Helper()
	ctx := context.Background()
	out, stderr, err := c.KubectlStderr(ctx, nil, "-n", ns, "apply", "--server-side", "--dry-run=server", "-f", manifests)
	if err != nil {
		t.Errorf("%s: not admitted: %v", what, err)
		return
	}
	if strings.Contains(stderr, "Warning:") {
		t.Errorf("%s: admitted with warnings:\n%s", what, stderr)
	}
	t.Logf("%s: %s", what, strings.Join(strings.Fields(out), " "))
	for _, d := range deploymentsIn(t, manifests) {
		pod := corev1.Pod{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: d.Name + "-pod", Namespace: ns, Labels: d.Spec.Template.Labels},
			Spec:       d.Spec.Template.Spec,
		}
		b, err := yaml.Marshal(pod)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Kubectl(ctx, bytes.NewReader(b), "-n", ns, "create", "--dry-run=server", "-f", "-"); err != nil {
			t.Errorf("%s: the pod of Deployment %s is refused: %v", what, d.Name, err)
		}
	}
}

// deploymentsIn decodes the Deployments of a file or a directory's
// *.yaml (multi-document files included).
func deploymentsIn(t *testing.T, path string) []appsv1.Deployment {
	t.Helper()
	files := []string{path}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		files, _ = filepath.Glob(filepath.Join(path, "*.yaml"))
	}
	var ds []appsv1.Deployment
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range strings.Split(string(b), "\n---") {
			var d appsv1.Deployment
			if err := yaml.Unmarshal([]byte(doc), &d); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if d.Kind == "Deployment" {
				ds = append(ds, d)
			}
		}
	}
	if len(ds) == 0 {
		t.Fatalf("%s: no Deployment", path)
	}
	return ds
}

// Every example's k8s/ manifests and every `jbuild k8s` rendering (each
// built-in profile on each --cluster) are admitted by the real API server
// into a namespace that enforces the restricted Pod Security level: no
// refusal, no warning, and each Deployment's pod is accepted as a Pod. A
// Deployment without its security context gets the violation, so the
// check sees one when there is one.
func TestClusterAdmitsManifests(t *testing.T) {
	c, _ := testCluster(t)
	ns := "admit"
	testNamespace(t, c, ns)

	for _, s := range samples {
		admit(t, c, ns, s.Name+"/k8s", filepath.Join(s.Name, "k8s"))
	}

	profiles, _, _ := runJbuild(t, "profiles")
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(profiles), "\n")[1:] {
		names = append(names, strings.Fields(line)[0])
	}
	if len(names) < 5 {
		t.Fatalf("jbuild profiles listed %q", names)
	}
	images := map[string]string{
		"generic":       "registry.example.com/shop/api:1.2-jennifer",
		"aks":           "myacr.azurecr.io/shop/api:1.2-jennifer",
		"eks":           "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:1.2-jennifer",
		"gke":           "europe-west1-docker.pkg.dev/proj/shop/api:1.2-jennifer",
		"gke-autopilot": "europe-west1-docker.pkg.dev/proj/shop/api:1.2-jennifer",
	}
	dir := t.TempDir()
	for cluster, image := range images {
		t.Run(cluster, func(t *testing.T) {
			t.Parallel()
			admitRenderings(t, c, ns, dir, cluster, image, names)
		})
	}

	// The control: the Java sample's Deployment without its security
	// contexts is warned about, and its pod refused.
	bad := sampleDeployment(t, samples[1], "registry.example.com/samples/java-sample:1.0", func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.SecurityContext = nil
		d.Spec.Template.Spec.Containers[0].SecurityContext = nil
	})
	_, stderr, err := c.KubectlStderr(context.Background(), bytes.NewReader(bad), "-n", ns, "apply", "--server-side", "--dry-run=server", "-f", "-")
	if err != nil || !strings.Contains(stderr, "would violate PodSecurity") {
		t.Errorf("a Deployment without security contexts: want a Pod Security warning, got %v\n%s", err, stderr)
	}
	badPod := corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: ns}}
	var d appsv1.Deployment
	if err := yaml.Unmarshal(bad, &d); err != nil {
		t.Fatal(err)
	}
	badPod.Spec = d.Spec.Template.Spec
	b, _ := yaml.Marshal(badPod)
	if _, err := c.Kubectl(context.Background(), bytes.NewReader(b), "-n", ns, "create", "--dry-run=server", "-f", "-"); err == nil || !strings.Contains(err.Error(), psaViolation) {
		t.Errorf("a pod without security contexts: want it refused (%s), got %v", psaViolation, err)
	}
}

// admitRenderings renders each profile with `jbuild k8s --cluster
// cluster` (offline) and admits it.
func admitRenderings(t *testing.T, c *k8scluster.Cluster, ns, dir, cluster, image string, profiles []string) {
	for _, p := range profiles {
		what := fmt.Sprintf("jbuild k8s --cluster %s --profile %s", cluster, p)
		out := filepath.Join(dir, cluster+"-"+p+".yaml")
		yaml, stderr, code := runJbuild(t, "k8s", image, "--offline", "--profile", p, "--user", "1000:1000", "--port", "8080",
			"--cluster", cluster, "--name", "api-"+strings.TrimPrefix(p, "jennifer-"))
		if code != 0 {
			t.Errorf("%s: exit %d\n%s", what, code, stderr)
			continue
		}
		if err := os.WriteFile(out, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		admit(t, c, ns, what, out)
	}
}
