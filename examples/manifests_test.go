// Package examples_test checks the samples under examples/: every sample's
// Kubernetes manifests decode strictly into k8s.io/api types and satisfy the
// restricted Pod Security Standard without an agent volume or env block, and
// (without -short) the Java, Node.js, Python and PHP samples are built from
// their Dockerfiles through BuildKit with the jbuild frontend and run the
// way their Deployment runs them (build_test.go).
package examples_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/jbuild-dev/jbuild/internal/testing/k8scluster"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/templates"
)

// The cluster tests (cluster_*_test.go) share one cluster, stopped here.
func TestMain(m *testing.M) { testenv.Main(m, k8scluster.StopShared) }

// frontendLine is the first line of every sample Dockerfile: a placeholder
// reference, documented in each README (tests pass BUILDKIT_SYNTAX).
const frontendLine = "# syntax=registry.example.com/jbuild/frontend:1"

// sample is one directory under examples/.
type sample struct {
	Name    string // directory, Deployment, Service and HPA name
	Profile string // the jbuild profile its agent uses
	UID     int64  // the image's USER and the pod's runAsUser
}

var samples = []sample{
	{"net-razor31-sample", "jennifer-dotnet", 1654},
	{"java-sample", "jennifer-java", 1000},
	{"nodejs-sample", "jennifer-nodejs", 1000},
	{"python-sample", "jennifer-python", 1000},
	{"php-sample", "jennifer-php", 1000},
}

// decodeStrict decodes one YAML document into obj; unknown and duplicate
// fields are errors, as `kubectl apply --validate=strict` makes them.
func decodeStrict(path string, obj any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if bytes.Contains(b, []byte("\n---")) {
		return fmt.Errorf("%s: more than one YAML document", path)
	}
	if err := yaml.UnmarshalStrict(b, obj); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// manifests are one sample's k8s/ files, decoded.
type manifests struct {
	Deployment *appsv1.Deployment
	Service    *corev1.Service
	HPA        *autoscalingv2.HorizontalPodAutoscaler
}

func loadManifests(t testing.TB, dir string) manifests {
	t.Helper()
	m := manifests{&appsv1.Deployment{}, &corev1.Service{}, &autoscalingv2.HorizontalPodAutoscaler{}}
	for file, obj := range map[string]any{"deployment.yaml": m.Deployment, "service.yaml": m.Service, "hpa.yaml": m.HPA} {
		if err := decodeStrict(filepath.Join(dir, "k8s", file), obj); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

// Every sample has its app, a Dockerfile whose first line is the jbuild
// frontend, a README with the equivalent `jbuild wrap`, and manifests that
// decode strictly and deploy the monitored image as the walkthrough does:
// restricted Pod Security, no agent volume or env, emptyDirs for the
// agent's log directory and /tmp, an HPA of 1 to 3 replicas.
func TestSampleManifests(t *testing.T) {
	for _, s := range samples {
		t.Run(s.Name, func(t *testing.T) {
			checkSample(t, s)
		})
	}
}

func checkSample(t *testing.T, s sample) {
	df, err := os.ReadFile(filepath.Join(s.Name, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(string(df), "\n"); first != frontendLine {
		t.Errorf("Dockerfile: first line %q, want %q", first, frontendLine)
	}
	if !strings.Contains(string(df), "ARG BASE_IMAGE=") {
		t.Error("Dockerfile: no ARG BASE_IMAGE (the tests replace the public base with a local one)")
	}
	if strings.Contains(string(df), "ARG JENNIFER_") {
		t.Error("Dockerfile: declares JENNIFER_ build args: the frontend reads them, the Dockerfile needs none")
	}
	readme, err := os.ReadFile(filepath.Join(s.Name, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"jbuild wrap ", "--build-context jennifer-agent=", "JENNIFER_SERVER_ADDRESS", "BUILDKIT_SYNTAX", "kubectl apply -f k8s/"} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md does not show %q", want)
		}
	}

	m := loadManifests(t, s.Name)
	d, svc, hpa := m.Deployment, m.Service, m.HPA
	if d.APIVersion != "apps/v1" || d.Kind != "Deployment" || svc.APIVersion != "v1" || svc.Kind != "Service" ||
		hpa.APIVersion != "autoscaling/v2" || hpa.Kind != "HorizontalPodAutoscaler" {
		t.Errorf("kinds: %s %s, %s %s, %s %s", d.APIVersion, d.Kind, svc.APIVersion, svc.Kind, hpa.APIVersion, hpa.Kind)
	}
	for kind, name := range map[string]string{"Deployment": d.Name, "Service": svc.Name, "HorizontalPodAutoscaler": hpa.Name} {
		if name != s.Name {
			t.Errorf("%s is named %q, want %q", kind, name, s.Name)
		}
	}

	// The selector selects the pods, and the Service selects them too.
	pod := d.Spec.Template
	if d.Spec.Selector == nil || !subset(d.Spec.Selector.MatchLabels, pod.Labels) || len(d.Spec.Selector.MatchLabels) == 0 {
		t.Errorf("Deployment selector %v does not select its pod labels %v", d.Spec.Selector, pod.Labels)
	}
	if !subset(svc.Spec.Selector, pod.Labels) || len(svc.Spec.Selector) == 0 {
		t.Errorf("Service selector %v does not select the pod labels %v", svc.Spec.Selector, pod.Labels)
	}

	spec := pod.Spec
	if len(spec.Containers) != 1 || len(spec.InitContainers) != 0 {
		t.Fatalf("%d containers and %d init containers, want one container", len(spec.Containers), len(spec.InitContainers))
	}
	c := spec.Containers[0]
	if c.Image == "" || strings.Contains(c.Image, "jennifer/agent") {
		t.Errorf("image %q: want the monitored application image", c.Image)
	}
	// No agent env block, no agent volume: the image carries both.
	if len(c.Env) != 0 || len(c.EnvFrom) != 0 {
		t.Errorf("container env %v / envFrom %v: the monitored image needs none", c.Env, c.EnvFrom)
	}
	if len(c.Command) != 0 || len(c.Args) != 0 {
		t.Errorf("command %q args %q replace the image's entrypoint", c.Command, c.Args)
	}

	// Restricted Pod Security Standard.
	psc, csc := spec.SecurityContext, c.SecurityContext
	if psc == nil || csc == nil {
		t.Fatal("pod and container securityContext are required")
	}
	if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Error("runAsNonRoot is not true")
	}
	if psc.RunAsUser == nil || *psc.RunAsUser != s.UID || psc.RunAsGroup == nil || psc.FSGroup == nil {
		t.Errorf("runAsUser %v runAsGroup %v fsGroup %v: want the image's user %d and a group", psc.RunAsUser, psc.RunAsGroup, psc.FSGroup, s.UID)
	}
	if !strings.Contains(string(df), fmt.Sprintf("\nUSER %d:%d\n", s.UID, s.UID)) {
		t.Errorf("Dockerfile has no USER %d:%d, the user the manifest runs as", s.UID, s.UID)
	}
	if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("seccompProfile is not RuntimeDefault")
	}
	if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(csc.Capabilities.Add) != 0 {
		t.Errorf("capabilities %v: want drop [ALL], nothing added", csc.Capabilities)
	}
	if csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC || (csc.Privileged != nil && *csc.Privileged) {
		t.Error("host namespaces or privileged")
	}
	// GKE Autopilot and the HPA's CPU target need requests.
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Errorf("resources.requests %v: want cpu and memory", c.Resources.Requests)
	}

	// Only emptyDirs, each mounted, among them the agent's log directory.
	prof, err := templates.Lookup(s.Profile)
	if err != nil {
		t.Fatal(err)
	}
	mounts := mountedEmptyDirs(t, spec)
	for _, want := range []string{"/tmp", prof.InstallDir + "/logs"} {
		if !slices.Contains(mounts, want) {
			t.Errorf("no emptyDir at %s (mounted: %q)", want, mounts)
		}
	}

	// Probes and the Service reach the app's port by name.
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("ports %v: want http 8080 (the Dockerfile's PORT)", c.Ports)
	}
	for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/health" || p.HTTPGet.Port != intstr.FromString("http") {
			t.Errorf("%s probe %v: want GET /health on port http", name, p)
		}
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != intstr.FromString("http") {
		t.Errorf("Service ports %v: want one, targetPort http", svc.Spec.Ports)
	}

	// kubectl autoscale deployment <name> --min=1 --max=3, CPU 80%.
	ref := hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != d.Name {
		t.Errorf("HPA targets %+v, want the Deployment", ref)
	}
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas != 1 || hpa.Spec.MaxReplicas != 3 {
		t.Errorf("HPA replicas %v..%d, want 1..3", hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
	}
	if len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].Resource == nil || hpa.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU ||
		hpa.Spec.Metrics[0].Resource.Target.AverageUtilization == nil {
		t.Errorf("HPA metrics %+v: want CPU utilization", hpa.Spec.Metrics)
	}
}

// mountedEmptyDirs fails on any volume that is not an emptyDir, or is not
// mounted, and returns the mount paths.
func mountedEmptyDirs(t testing.TB, spec corev1.PodSpec) []string {
	t.Helper()
	byName := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		if v.EmptyDir == nil {
			t.Errorf("volume %q is not an emptyDir: the agent needs no PV or other volume", v.Name)
		}
		byName[v.Name] = v
	}
	var paths []string
	used := map[string]bool{}
	for _, m := range spec.Containers[0].VolumeMounts {
		if _, ok := byName[m.Name]; !ok {
			t.Errorf("volumeMount %q names no volume", m.Name)
		}
		used[m.Name] = true
		paths = append(paths, m.MountPath)
	}
	for name := range byName {
		if !used[name] {
			t.Errorf("volume %q is not mounted", name)
		}
	}
	return paths
}

func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// Strict decoding rejects what a typo would silently drop.
func TestDecodeStrictRejects(t *testing.T) {
	dir := t.TempDir()
	for name, doc := range map[string]string{
		"unknown":   "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replica: 2\n",
		"duplicate": "apiVersion: apps/v1\nkind: Deployment\nkind: Deployment\n",
		"two docs":  "apiVersion: apps/v1\nkind: Deployment\n---\napiVersion: v1\nkind: Service\n",
	} {
		p := filepath.Join(dir, name+".yaml")
		os.WriteFile(p, []byte(doc), 0o644)
		if err := decodeStrict(p, &appsv1.Deployment{}); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}
