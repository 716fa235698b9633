package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/spf13/cobra"

	"github.com/jbuild-dev/jbuild/internal/k8s/psatest"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// exampleLines are the command lines of a command's --help examples that
// start with prefix (comments and continuation lines left out).
func exampleLines(t *testing.T, c *cobra.Command, prefix string) [][]string {
	t.Helper()
	var out [][]string
	for _, l := range strings.Split(c.Example, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, prefix) {
			out = append(out, strings.Fields(l))
		}
	}
	if len(out) == 0 {
		t.Fatalf("no %q lines in the examples of %s", prefix, c.Name())
	}
	return out
}

// strictManifests decodes jbuild k8s output strictly into k8s.io/api types.
func strictManifests(t *testing.T, data string) (*appsv1.Deployment, *corev1.Service, *autoscalingv2.HorizontalPodAutoscaler) {
	t.Helper()
	var dep *appsv1.Deployment
	var svc *corev1.Service
	var hpa *autoscalingv2.HorizontalPodAutoscaler
	for _, doc := range strings.Split(data, "\n---\n") {
		var tm struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatal(err)
		}
		var target any
		switch tm.Kind {
		case "":
			continue // the header comment
		case "Deployment":
			dep = &appsv1.Deployment{}
			target = dep
		case "Service":
			svc = &corev1.Service{}
			target = svc
		case "HorizontalPodAutoscaler":
			hpa = &autoscalingv2.HorizontalPodAutoscaler{}
			target = hpa
		default:
			t.Fatalf("unexpected kind %q", tm.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), target); err != nil {
			t.Fatalf("%s does not decode strictly: %v", tm.Kind, err)
		}
	}
	if dep == nil || svc == nil || hpa == nil {
		t.Fatalf("want Deployment, Service and HPA in:\n%s", data)
	}
	return dep, svc, hpa
}

// Every `jbuild k8s` line of `jbuild k8s --help` (and so of
// docs/cli/jbuild_k8s.md), run against a wrapped image in the
// loopback registry (the image name swapped for it; --offline lines as
// written): exit 0, and manifests that decode strictly and keep the
// restricted fields.
func TestK8sReadmeExamples(t *testing.T) {
	reg := testenv.Registry(t)
	testenv.PushRandomImage(t, reg+"/shop/api:1.2", 1, 1024, func(cf *v1.ConfigFile) {
		cf.Config.Env = []string{"PATH=/usr/bin:/bin", "JAVA_HOME=" + testenv.JavaLikeHome}
		cf.Config.Entrypoint = []string{"java", "-jar", "/app/app.jar"}
		cf.Config.User = "1000:1000"
		cf.Config.ExposedPorts = map[string]struct{}{"8080/tcp": {}}
	})
	image := reg + "/shop/api:1.2-jennifer"
	if r := jbuild(t, "wrap", reg+"/shop/api:1.2", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5", "-q"); r.code != 0 {
		t.Fatalf("wrap: exit %d: %s", r.code, r.stderr)
	}
	for _, line := range exampleLines(t, newK8sCmd(&globalFlags{}), "jbuild k8s ") {
		t.Run(strings.Join(line[2:], " "), func(t *testing.T) {
			args := append([]string(nil), line[1:]...)
			offline := false
			out := ""
			for i := 0; i < len(args); i++ {
				switch args[i] {
				case "--offline":
					offline = true
				case "-o", "--output-file":
					out = filepath.Join(t.TempDir(), "out.yaml")
					args[i+1] = out
				case ">":
					args = args[:i]
				}
			}
			if !offline {
				args[1] = image
			}
			r := jbuild(t, args...)
			if r.code != 0 {
				t.Fatalf("jbuild %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
			}
			data := r.stdout
			if out != "" {
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				data = string(b)
			}
			dep, svc, hpa := strictManifests(t, data)
			pod := dep.Spec.Template.Spec
			c := pod.Containers[0]
			if *pod.SecurityContext.RunAsUser != 1000 || !*pod.SecurityContext.RunAsNonRoot || !*c.SecurityContext.ReadOnlyRootFilesystem ||
				*c.SecurityContext.AllowPrivilegeEscalation || c.SecurityContext.Capabilities.Drop[0] != "ALL" ||
				pod.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("pod security %+v / %+v", pod.SecurityContext, c.SecurityContext)
			}
			if len(c.VolumeMounts) != 2 || c.VolumeMounts[0].MountPath != "/tmp" || c.VolumeMounts[1].MountPath != "/opt/jennifer/agent.java/logs" || pod.Volumes[0].EmptyDir == nil || pod.Volumes[1].EmptyDir == nil {
				t.Errorf("mounts %+v: want emptyDirs at /tmp and the Java agent's logs", c.VolumeMounts)
			}
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Errorf("automountServiceAccountToken %v, want false", pod.AutomountServiceAccountToken)
			}
			if err := psatest.Restricted(dep.Spec.Template); err != nil {
				t.Error(err)
			}
			if svc.Spec.Ports[0].Port != 8080 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas {
				t.Errorf("service %+v hpa %+v", svc.Spec.Ports, hpa.Spec)
			}
			if strings.Contains(strings.Join(args, " "), "--pin") && !strings.HasPrefix(c.Image, image+"@sha256:") {
				t.Errorf("--pin: image %s, want %s@sha256:... (the tag kept)", c.Image, image)
			}
			// What jbuild k8s renders lints clean.
			f := filepath.Join(t.TempDir(), "rendered.yaml")
			os.WriteFile(f, []byte(data), 0o644)
			lintArgs := []string{"lint", f}
			if offline {
				lintArgs = append(lintArgs, "--offline", "--profile", "jennifer-java")
			}
			if lr := jbuild(t, lintArgs...); lr.code != 0 || !strings.Contains(lr.stdout, "0 error(s), 0 warning(s) in 1 container(s)") {
				t.Errorf("lint of the rendered manifests: exit %d:\n%s%s", lr.code, lr.stdout, lr.stderr)
			}
		})
	}
}

func TestLintCLI(t *testing.T) {
	env := "../../internal/k8s/testdata/lint/env.yaml"
	r := jbuild(t, "lint", "--offline", env, "-o", "json")
	if r.code != 1 {
		t.Fatalf("lint of env.yaml: exit %d, want 1: %s", r.code, r.stderr)
	}
	var rep struct {
		Findings []struct{ Severity, Rule, File, Resource, Container, Field, Message, Fix string }
		Errors   int
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("-o json: %v\n%s", err, r.stdout)
	}
	if rep.Errors == 0 || rep.Findings[0].File != env || rep.Findings[0].Fix == "" {
		t.Errorf("report %+v", rep)
	}
	if r := jbuild(t, "lint", "--offline", "../../internal/k8s/testdata/lint/clean.yaml"); r.code != 0 {
		t.Errorf("lint of clean.yaml: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{
		{"lint"},
		{"lint", env, "-o", "xml"},
		{"k8s", "oci:./x:1"},
		{"k8s", "reg.example/a:1-jennifer", "--offline", "--profile", "jennifer-java"},
		{"k8s", "reg.example/a:1-jennifer", "--offline", "--profile", "jennifer-java", "--user", "app", "--port", "80"},
		{"k8s", "reg.example/a:1-jennifer", "--offline", "--profile", "jennifer-java", "--user", "1000", "--port", "80", "--cluster", "openshift"},
		{"k8s", "reg.example/a:1-jennifer", "--offline", "--profile", "jennifer-java", "--user", "1000", "--port", "80", "--pin"},
		{"k8s", "reg.example/a:1-jennifer", "--offline", "--profile", "jennifer-java", "--user", "1000", "--port", "80", "--cluster", "gke-autopilot", "--cpu-limit", "2"},
	} {
		if r := jbuild(t, args...); r.code != 2 {
			t.Errorf("jbuild %s: exit %d, want 2 (usage): %s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

// The renamed k8s flags: --cluster and --output-file, and the old
// --platform and -o still working with a note that names the new flag.
func TestK8sRenamedFlags(t *testing.T) {
	base := []string{"k8s", "reg.example/shop/api:1-jennifer", "--offline", "--profile", "jennifer-java", "--user", "1000", "--port", "8080"}
	newF := filepath.Join(t.TempDir(), "new.yaml")
	r := jbuild(t, append(base, "--cluster", "aks", "--output-file", newF)...)
	if r.code != 0 || strings.Contains(r.stderr, "deprecated") {
		t.Fatalf("--cluster --output-file: exit %d: %s", r.code, r.stderr)
	}
	want, err := os.ReadFile(newF)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.stderr, "azurecr.io") {
		t.Errorf("--cluster aks: no AKS registry warning in %q", r.stderr)
	}
	oldF := filepath.Join(t.TempDir(), "old.yaml")
	r = jbuild(t, append(base, "--platform", "aks", "-o", oldF)...)
	if r.code != 0 {
		t.Fatalf("--platform -o: exit %d: %s", r.code, r.stderr)
	}
	for _, n := range []string{"use --cluster", "use --output-file"} {
		if !strings.Contains(r.stderr, n) {
			t.Errorf("old flag names: no %q note in %q", n, r.stderr)
		}
	}
	got, err := os.ReadFile(oldF)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("the old flag names render differently:\n%s\nvs\n%s", got, want)
	}
	if r := jbuild(t, append(base, "-o", "yaml")...); r.code != 2 || !strings.Contains(r.stderr, "--output-file") {
		t.Errorf("-o yaml (a format, as in the other commands): exit %d, %s", r.code, r.stderr)
	}
	if _, err := os.Stat("yaml"); err == nil {
		t.Error("-o yaml wrote a file named yaml")
	}
	if r := jbuild(t, "k8s", "--help"); strings.Contains(r.stdout, "--platform") && !strings.Contains(r.stdout, "--platform is now --cluster") {
		t.Errorf("k8s --help lists --platform as a flag:\n%s", r.stdout)
	}
}
