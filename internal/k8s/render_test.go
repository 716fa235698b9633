package k8s

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func i64(v int64) *int64 { return &v }

func profile(t testing.TB, name string) *buildplan.Profile {
	t.Helper()
	p, err := templates.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// monitored is a readable jbuild output wrapped with the named profile.
func monitored(t testing.TB, ref, prof string, uid, gid int64, volumes string, env ...string) *Image {
	p := profile(t, prof)
	return &Image{
		Ref: ref, Digest: "sha256:" + strings.Repeat("ab", 32), Reachable: true,
		Labels: map[string]string{
			buildplan.LabelProfile: prof, buildplan.LabelVersion: "test", buildplan.LabelRuntime: string(p.Runtime),
			buildplan.LabelVolumes: volumes,
		},
		Profile: p, User: fmt.Sprintf("%d:%d", uid, gid), UID: i64(uid), GID: i64(gid),
		Ports: []Port{{8080, "TCP"}, {9090, "TCP"}}, Env: envMap(env), Archs: []string{"amd64", "arm64"},
	}
}

func baseOptions(img *Image) Options {
	port := int32(8080)
	if len(img.Ports) > 0 {
		port = img.Ports[0].Number
	}
	return Options{
		Name: DefaultName("shop/api"), Image: img.Ref, Port: port,
		MinReplicas: DefaultMinReplicas, MaxReplicas: DefaultMaxReplicas, CPUUtilization: DefaultCPUPercent,
		Resources: DefaultResources(), Platform: PlatformGeneric,
	}
}

// decoded are the manifests read back strictly: every field must be known
// to k8s.io/api.
type decoded struct {
	dep *appsv1.Deployment
	svc *corev1.Service
	hpa *autoscalingv2.HorizontalPodAutoscaler
}

func decodeStrict(t *testing.T, data []byte) decoded {
	t.Helper()
	var d decoded
	for i, doc := range strings.Split(string(data), "\n---\n") {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		var tm struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var target any
		switch tm.Kind {
		case "Deployment":
			d.dep = &appsv1.Deployment{}
			target = d.dep
		case "Service":
			d.svc = &corev1.Service{}
			target = d.svc
		case "HorizontalPodAutoscaler":
			d.hpa = &autoscalingv2.HorizontalPodAutoscaler{}
			target = d.hpa
		default:
			t.Fatalf("document %d has kind %q", i, tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), target); err != nil {
			t.Fatalf("document %d (%s) does not decode strictly: %v\n%s", i, tm.Kind, err, doc)
		}
	}
	if d.dep == nil || d.svc == nil || d.hpa == nil {
		t.Fatalf("want a Deployment, a Service and an HPA; got %+v", d)
	}
	return d
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// checkRestricted asserts the restricted Pod Security Standard fields, the
// emptyDirs, the HPA and the Service.
func checkRestricted(t *testing.T, d decoded, img *Image, o Options) {
	t.Helper()
	pod := d.dep.Spec.Template.Spec
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v: want runAsNonRoot and seccomp RuntimeDefault", psc)
	}
	wantUID := img.UID
	if o.UID != nil {
		wantUID = o.UID
	}
	if psc.RunAsUser == nil || *psc.RunAsUser != *wantUID || *psc.RunAsUser == 0 {
		t.Errorf("runAsUser %v, want %d", psc.RunAsUser, *wantUID)
	}
	if psc.RunAsGroup == nil || (psc.FSGroup != nil && *psc.FSGroup != *psc.RunAsGroup) {
		t.Errorf("runAsGroup %v fsGroup %v: want fsGroup = runAsGroup", psc.RunAsGroup, psc.FSGroup)
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		t.Error("host namespaces are shared")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 || sc.Privileged != nil {
		t.Errorf("container securityContext %+v: want no privilege escalation, read-only root, drop ALL", sc)
	}
	if c.Image != o.Image {
		t.Errorf("image %q, want %q", c.Image, o.Image)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[r]; !ok {
			t.Errorf("no %s request", r)
		}
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("automountServiceAccountToken %v: want false, as the examples' manifests", pod.AutomountServiceAccountToken)
	}
	// emptyDirs: exactly one at /tmp and one per other io.jbuild.volumes
	// dir, each with a sizeLimit.
	want := []string{"/tmp"}
	for _, v := range img.Volumes() {
		if v != "/tmp" {
			want = append(want, v)
		}
	}
	if len(c.VolumeMounts) != len(want) || len(pod.Volumes) != len(want) {
		t.Fatalf("mounts %+v volumes %+v, want one emptyDir per %v", c.VolumeMounts, pod.Volumes, want)
	}
	for i, dir := range want {
		m := c.VolumeMounts[i]
		v := volume(&pod, m.Name)
		if m.MountPath != dir || m.ReadOnly || v == nil || v.EmptyDir == nil || v.EmptyDir.SizeLimit == nil {
			t.Errorf("mount %d %+v / volume %+v: want a writable emptyDir with a sizeLimit at %s", i, m, v, dir)
		}
	}
	// Downward env never names a variable the image sets.
	for _, e := range c.Env {
		if _, ok := img.Env[e.Name]; ok {
			t.Errorf("pod env %s replaces the image's value", e.Name)
		}
		if e.ValueFrom == nil || e.ValueFrom.FieldRef == nil {
			t.Errorf("env %s is not from the downward API", e.Name)
		}
	}
	// HPA.
	h := d.hpa.Spec
	if h.MinReplicas == nil || *h.MinReplicas != o.MinReplicas || h.MaxReplicas != o.MaxReplicas || h.ScaleTargetRef.Name != d.dep.Name || h.ScaleTargetRef.Kind != "Deployment" {
		t.Errorf("HPA spec %+v: want %d..%d on Deployment %s", h, o.MinReplicas, o.MaxReplicas, d.dep.Name)
	}
	if len(h.Metrics) != 1 || h.Metrics[0].Resource == nil || h.Metrics[0].Resource.Name != corev1.ResourceCPU || *h.Metrics[0].Resource.Target.AverageUtilization != o.CPUUtilization {
		t.Errorf("HPA metrics %+v: want CPU at %d%%", h.Metrics, o.CPUUtilization)
	}
	// Service.
	sp := d.svc.Spec.Ports
	if len(sp) != 1 || sp[0].Port != o.Port || sp[0].TargetPort.StrVal != c.Ports[0].Name || c.Ports[0].ContainerPort != o.Port {
		t.Errorf("service ports %+v, container ports %+v: want %d", sp, c.Ports, o.Port)
	}
	for k, v := range d.svc.Spec.Selector {
		if d.dep.Spec.Template.Labels[k] != v {
			t.Errorf("service selector %s=%s does not match the pods", k, v)
		}
	}
	if o.Namespace != d.dep.Namespace || o.Namespace != d.svc.Namespace || o.Namespace != d.hpa.Namespace {
		t.Errorf("namespace %q/%q/%q, want %q", d.dep.Namespace, d.svc.Namespace, d.hpa.Namespace, o.Namespace)
	}
}

// The flag combinations the README shows, plus the edges.
func TestRenderCases(t *testing.T) {
	java := func(t *testing.T) *Image {
		return monitored(t, "registry.example.com/shop/api:1.2-jennifer", "jennifer-java", 1000, 1000, "/opt/jennifer/agent.java/logs", "JAVA_TOOL_OPTIONS=-javaagent:/opt/jennifer/agent.java/jennifer.jar")
	}
	tests := []struct {
		name   string
		img    func(t *testing.T) *Image
		opts   func(o *Options)
		golden string
		check  func(t *testing.T, m *Manifests, d decoded)
	}{
		{name: "defaults", img: java, golden: "java-generic", check: func(t *testing.T, m *Manifests, d decoded) {
			c := d.dep.Spec.Template.Spec.Containers[0]
			if d.dep.Spec.Replicas != nil {
				t.Errorf("replicas %d written: the HPA must own the count", *d.dep.Spec.Replicas)
			}
			if _, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
				t.Error("a CPU limit by default")
			}
			if len(c.Env) != 2 || c.Env[0].Name != "POD_NAME" || c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.name" || c.Env[1].ValueFrom.FieldRef.FieldPath != "metadata.namespace" {
				t.Errorf("env %+v: want POD_NAME and POD_NAMESPACE from the downward API", c.Env)
			}
			if len(m.Warnings) != 0 {
				t.Errorf("warnings %v", m.Warnings)
			}
		}},
		{name: "aks pinned", img: func(t *testing.T) *Image {
			i := java(t)
			i.Ref = "myacr.azurecr.io/shop/api:1.2-jennifer"
			return i
		}, opts: func(o *Options) {
			o.Platform = PlatformAKS
			o.Image = Pinned("myacr.azurecr.io/shop/api:1.2-jennifer", "sha256:"+strings.Repeat("ab", 32))
			o.Namespace = "shop"
		}, check: func(t *testing.T, m *Manifests, d decoded) {
			if len(m.Warnings) != 0 {
				t.Errorf("ACR image on AKS: warnings %v", m.Warnings)
			}
			if !strings.HasPrefix(d.dep.Spec.Template.Spec.Containers[0].Image, "myacr.azurecr.io/shop/api:1.2-jennifer@sha256:") {
				t.Errorf("image not pinned with its tag kept: %s", d.dep.Spec.Template.Spec.Containers[0].Image)
			}
		}},
		{name: "aks other registry", img: java, opts: func(o *Options) { o.Platform = PlatformAKS }, check: func(t *testing.T, m *Manifests, d decoded) {
			if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "azurecr.io") {
				t.Errorf("warnings %v: want one about ACR", m.Warnings)
			}
		}},
		{name: "eks", img: java, opts: func(o *Options) {
			o.Platform = PlatformEKS
			o.Image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:1.2-jennifer"
		}, check: func(t *testing.T, m *Manifests, d decoded) {
			if len(m.Warnings) != 0 {
				t.Errorf("ECR image on EKS: warnings %v", m.Warnings)
			}
		}},
		{name: "gke autopilot", img: func(t *testing.T) *Image {
			return monitored(t, "europe-west1-docker.pkg.dev/proj/shop/api:1.2-jennifer", "jennifer-python", 1000, 1000, "/opt/jennifer/agent.python/logs,/tmp")
		}, opts: func(o *Options) {
			o.Platform = PlatformGKEAutopilot
			o.MinReplicas, o.MaxReplicas = 2, 10
		}, golden: "python-gke-autopilot", check: func(t *testing.T, m *Manifests, d decoded) {
			c := d.dep.Spec.Template.Spec.Containers[0]
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
				req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
				if req.IsZero() || req.Cmp(lim) != 0 {
					t.Errorf("%s request %s limit %s: Autopilot wants them equal", r, req.String(), lim.String())
				}
			}
			es := c.Resources.Requests[corev1.ResourceEphemeralStorage]
			if es.Cmp(resource.MustParse("1536Mi")) != 0 {
				t.Errorf("ephemeral-storage request %s: want 1Gi plus the two emptyDirs' 2x256Mi", es.String())
			}
			if len(m.Warnings) != 0 {
				t.Errorf("warnings %v", m.Warnings)
			}
			if len(c.Env) != 3 || c.Env[0].Name != "JENNIFER_NODE_NAME" {
				t.Errorf("env %+v: want JENNIFER_NODE_NAME, POD_NAME, POD_NAMESPACE", c.Env)
			}
		}},
		{name: "gke other registry", img: java, opts: func(o *Options) { o.Platform = PlatformGKE }, check: func(t *testing.T, m *Manifests, d decoded) {
			if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0], "docker.pkg.dev") {
				t.Errorf("warnings %v: want one about Artifact Registry", m.Warnings)
			}
		}},
		{name: "replicas and scaling", img: java, opts: func(o *Options) {
			o.Replicas, o.MinReplicas, o.MaxReplicas, o.CPUUtilization = 2, 2, 10, 60
			o.Resources.CPULimit = "1"
			o.Resources.MemoryRequest, o.Resources.MemoryLimit = "1Gi", "1Gi"
		}, check: func(t *testing.T, m *Manifests, d decoded) {
			if d.dep.Spec.Replicas == nil || *d.dep.Spec.Replicas != 2 {
				t.Errorf("replicas %v", d.dep.Spec.Replicas)
			}
			lim := d.dep.Spec.Template.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU]
			if lim.String() != "1" {
				t.Errorf("cpu limit %s", lim.String())
			}
		}},
		{name: "offline dotnet", img: func(t *testing.T) *Image {
			return Offline("registry.example.com/shop/razor:1-jennifer", profile(t, "jennifer-dotnet"), i64(1000), i64(1000))
		}, opts: func(o *Options) {
			o.Image = "registry.example.com/shop/razor:1-jennifer"
			o.Port = 80
			o.Name = "net-razor31-sample"
		}, golden: "dotnet-offline"},
		{name: "image sets a downward variable", img: func(t *testing.T) *Image {
			return monitored(t, "registry.example.com/shop/api:1.2-jennifer", "jennifer-java", 1000, 1000, "/opt/jennifer/agent.java/logs", "POD_NAME=fixed")
		}, check: func(t *testing.T, m *Manifests, d decoded) {
			if env := d.dep.Spec.Template.Spec.Containers[0].Env; len(env) != 1 || env[0].Name != "POD_NAMESPACE" {
				t.Errorf("env %+v: POD_NAME is the image's, only POD_NAMESPACE is passed", env)
			}
			if len(m.Notes) == 0 || !strings.Contains(m.Notes[0], "POD_NAME") {
				t.Errorf("notes %v", m.Notes)
			}
		}},
		{name: "user override", img: java, opts: func(o *Options) { o.UID, o.GID = i64(2000), i64(3000) }, check: func(t *testing.T, m *Manifests, d decoded) {
			if psc := d.dep.Spec.Template.Spec.SecurityContext; *psc.RunAsGroup != 3000 || *psc.FSGroup != 3000 {
				t.Errorf("group %d fsGroup %d", *psc.RunAsGroup, *psc.FSGroup)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := tt.img(t)
			o := baseOptions(img)
			if tt.opts != nil {
				tt.opts(&o)
			}
			m, err := Render(img, o)
			if err != nil {
				t.Fatal(err)
			}
			data, err := m.Marshal("Generated by jbuild k8s (test).")
			if err != nil {
				t.Fatal(err)
			}
			d := decodeStrict(t, data)
			checkRestricted(t, d, img, o)
			checkPodSecurity(t, d.dep.Spec.Template)
			if tt.check != nil {
				tt.check(t, m, d)
			}
			if tt.golden != "" {
				golden(t, tt.golden, data)
			}
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "golden", name+".yaml")
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the rendered manifests (go test -update rewrites it):\n%s", p, got)
	}
}

func TestRenderRefuses(t *testing.T) {
	java := monitored(t, "registry.example.com/shop/api:1.2-jennifer", "jennifer-java", 1000, 1000, "/opt/jennifer/agent.java/logs")
	root := monitored(t, "registry.example.com/shop/api:1.2-jennifer", "jennifer-java", 0, 0, "")
	plain := &Image{Ref: "registry.example.com/shop/api:1.2", Reachable: true, Labels: map[string]string{}, UID: i64(1000), GID: i64(1000)}
	tests := []struct {
		name string
		img  *Image
		opts func(o *Options)
		want string
	}{
		{"root", root, nil, "runs as root"},
		{"not monitored", plain, nil, "not a monitored variant"},
		{"autopilot limit", java, func(o *Options) { o.Platform = PlatformGKEAutopilot; o.Resources.CPULimit = "1" }, "--cpu-limit 1 differs from --cpu-request 250m"},
		{"limit below request", java, func(o *Options) { o.Resources.MemoryLimit = "256Mi" }, "--memory-limit 256Mi is below"},
		{"max below min", java, func(o *Options) { o.MinReplicas, o.MaxReplicas = 3, 2 }, "--max 2"},
		{"bad name", java, func(o *Options) { o.Name = "Shop_API" }, "--name"},
		{"bad quantity", java, func(o *Options) { o.Resources.CPURequest = "lots" }, "--cpu-request"},
		{"replicas outside", java, func(o *Options) { o.Replicas = 5 }, "--replicas 5"},
		{"user 0", java, func(o *Options) { o.UID = i64(0) }, "--user 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := baseOptions(java)
			if tt.opts != nil {
				tt.opts(&o)
			}
			_, err := Render(tt.img, o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestHelpers(t *testing.T) {
	for in, want := range map[string]string{"shop/api": "api", "library/My_App.v2": "my-app-v2", "x/---": "app"} {
		if got := DefaultName(in); got != want {
			t.Errorf("DefaultName(%q) = %q, want %q", in, got, want)
		}
	}
	d := "sha256:" + strings.Repeat("0", 64)
	for in, want := range map[string]string{
		"reg.example.com:5000/shop/api:1.2-jennifer":              "reg.example.com:5000/shop/api:1.2-jennifer@" + d,
		"reg.example.com:5000/shop/api":                           "reg.example.com:5000/shop/api@" + d,
		"shop/api@sha256:" + strings.Repeat("1", 64):              "shop/api@" + d,
		"shop/api:1.2-jennifer@sha256:" + strings.Repeat("1", 64): "shop/api:1.2-jennifer@" + d,
	} {
		if got := Pinned(in, d); got != want {
			t.Errorf("Pinned(%q) = %q, want %q", in, got, want)
		}
	}
	if n := volumeName("/" + strings.Repeat("very-long-dir/", 10)); len(n) > 63 || !dnsLabel.MatchString(n) {
		t.Errorf("volumeName too long or invalid: %q", n)
	}
	for _, tt := range []struct {
		p     Platform
		image string
		warn  bool
	}{
		{PlatformAKS, "myacr.azurecr.io/a:1", false},
		{PlatformEKS, "123456789012.dkr.ecr.us-east-1.amazonaws.com/a:1", false},
		{PlatformEKS, "public.ecr.aws/x/a:1", false},
		{PlatformEKS, "docker.io/library/a:1", true},
		{PlatformGKE, "us-docker.pkg.dev/p/r/a:1", false},
		{PlatformGKE, "us-docker.pkg.dev/p/a:1", true},
		{PlatformGKE, "gcr.io/p/a:1", true},
		{PlatformAKS, "localhost:5000/a:1", true},
		{PlatformGeneric, "localhost:5000/a:1", false},
	} {
		if got := len(RegistryWarnings(tt.p, tt.image)) > 0; got != tt.warn {
			t.Errorf("RegistryWarnings(%s, %s): warned %v, want %v", tt.p, tt.image, got, tt.warn)
		}
	}
}
