package k8s

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/jbuild-dev/jbuild/internal/k8s/psatest"
)

// checkPodSecurity runs Kubernetes' Pod Security admission checks
// (restricted, latest) on a rendered pod template.
func checkPodSecurity(t *testing.T, tmpl corev1.PodTemplateSpec) {
	t.Helper()
	if err := psatest.Restricted(tmpl); err != nil {
		t.Errorf("rendered Deployment: %v", err)
	}
}

// The admission check can fail: what the restricted level refuses is
// refused here too, so a passing render means something.
func TestPodSecurityCheckRefuses(t *testing.T) {
	img := monitored(t, "registry.example.com/shop/api:1.2-jennifer", "jennifer-java", 1000, 1000, "/opt/jennifer/agent.java/logs")
	m, err := Render(img, baseOptions(img))
	if err != nil {
		t.Fatal(err)
	}
	if err := psatest.Restricted(m.Deployment.Spec.Template); err != nil {
		t.Fatalf("rendered: %v", err)
	}
	for name, spoil := range map[string]func(*corev1.PodSpec){
		"runAsNonRoot unset": func(p *corev1.PodSpec) {
			p.SecurityContext.RunAsNonRoot = nil
			p.Containers[0].SecurityContext.RunAsNonRoot = nil
		},
		"capability added": func(p *corev1.PodSpec) {
			p.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
		},
		"escalation allowed": func(p *corev1.PodSpec) { p.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil },
		"hostPath volume": func(p *corev1.PodSpec) {
			p.Volumes = append(p.Volumes, corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}})
		},
		"no seccomp": func(p *corev1.PodSpec) { p.SecurityContext.SeccompProfile = nil },
	} {
		tmpl := *m.Deployment.Spec.Template.DeepCopy()
		spoil(&tmpl.Spec)
		if err := psatest.Restricted(tmpl); err == nil {
			t.Errorf("%s: admitted at the restricted level", name)
		}
	}
}

// The examples' Deployments (examples/*/k8s/deployment.yaml), which the
// rendered manifests follow, pass the same admission checks.
func TestExampleManifestsPodSecurity(t *testing.T) {
	files, err := filepath.Glob("../../examples/*/k8s/deployment.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example deployments (%v)", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var dep appsv1.Deployment
		if err := yaml.Unmarshal(data, &dep); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := psatest.Restricted(dep.Spec.Template); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		pod := dep.Spec.Template.Spec
		if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
			t.Errorf("%s: automountServiceAccountToken is not false", f)
		}
		tmp := false
		for _, m := range pod.Containers[0].VolumeMounts {
			tmp = tmp || m.MountPath == TmpDir
		}
		if !tmp && !strings.Contains(f, "none") {
			t.Errorf("%s: no emptyDir at %s", f, TmpDir)
		}
	}
}
