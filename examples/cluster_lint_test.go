package examples_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// What `jbuild lint` flags really happens on the cluster: the Java
// sample's Deployment with an env entry that replaces JAVA_TOOL_OPTIONS
// (lint: env-override, exit 1) runs a JVM without the agent: the app
// answers through its Service, the JVM reports only the pod's options and
// no agent connects. The fixed Deployment (the image's value plus the
// pod's option, which lint accepts) rolls out a pod whose agent connects.
func TestClusterLintFlaggedManifestRunsUnmonitored(t *testing.T) {
	c, agents := testCluster(t)
	s := builtSamples[0]
	ns := "lint"
	testNamespace(t, c, ns)
	ref := clusterImage(t, c, s)
	var imageJTO string
	for _, e := range testenv.Config(t, ref).Config.Env {
		if v, ok := strings.CutPrefix(e, "JAVA_TOOL_OPTIONS="); ok {
			imageJTO = v
		}
	}
	if !strings.Contains(imageJTO, "-javaagent:") {
		t.Fatalf("the monitored image's JAVA_TOOL_OPTIONS is %q", imageJTO)
	}
	withJTO := func(v string) func(*appsv1.Deployment) {
		return func(d *appsv1.Deployment) {
			c := &d.Spec.Template.Spec.Containers[0]
			c.Env = append(c.Env, corev1.EnvVar{Name: "JAVA_TOOL_OPTIONS", Value: v})
		}
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.yaml", sampleDeployment(t, s.sample, ref, withJTO("-Xss512k")))
	fixed := write("fixed.yaml", sampleDeployment(t, s.sample, ref, withJTO(imageJTO+" -Xss512k")))

	out, stderr, code := runJbuild(t, "lint", bad, "-o", "json")
	var report struct {
		Findings []struct{ Severity, Rule, Field, Message string }
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("jbuild lint -o json: %v\n%s%s", err, out, stderr)
	}
	flagged := false
	for _, f := range report.Findings {
		flagged = flagged || f.Severity == "error" && f.Rule == "env-override" && strings.Contains(f.Message, "JAVA_TOOL_OPTIONS")
	}
	if code != 1 || !flagged {
		t.Fatalf("jbuild lint %s: exit %d, want 1 with an env-override error on JAVA_TOOL_OPTIONS:\n%s%s", bad, code, out, stderr)
	}
	if out, stderr, code := runJbuild(t, "lint", fixed); code != 0 {
		t.Fatalf("jbuild lint %s: exit %d, want 0:\n%s%s", fixed, code, out, stderr)
	}

	ctx := context.Background()
	badYAML, _ := os.ReadFile(bad)
	pod, ip := deploySample(t, c, ns, s.sample, badYAML)
	if code, body := serviceGet(t, c, ns, s.Name, "/"); code != 200 || body != greeting+"\n" {
		t.Errorf("service: %d %q", code, body)
	}
	// The agent's premain runs before the app's main: once the app
	// answered, an agent would have connected already.
	time.Sleep(3 * time.Second)
	if r, ok := agents.Reports()[ip]; ok {
		t.Errorf("pod %s of the flagged manifest: an agent connected (%q); lint said it would not", pod, r.Line)
	}
	logs, _ := c.Kubectl(ctx, nil, "-n", ns, "logs", pod)
	if !strings.Contains(logs, "Picked up JAVA_TOOL_OPTIONS: -Xss512k\n") {
		t.Errorf("pod %s: the JVM did not run with the pod's JAVA_TOOL_OPTIONS alone:\n%s", pod, logs)
	}

	fixedYAML, _ := os.ReadFile(fixed)
	pod, ip = deploySample(t, c, ns, s.sample, fixedYAML)
	waitAgent(t, agents, pod, ip, s.agentType)
	logs, _ = c.Kubectl(ctx, nil, "-n", ns, "logs", pod)
	if !strings.Contains(logs, "Picked up JAVA_TOOL_OPTIONS: "+imageJTO+" -Xss512k") {
		t.Errorf("pod %s: the JVM did not run with the fixed JAVA_TOOL_OPTIONS:\n%s", pod, logs)
	}
}
