package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The default target's suffix comes from the agent's profile: JENNIFER's
// wrap goes to TAG-jennifer, the OpenTelemetry example's to
// TAG-opentelemetry, so one source wrapped with both keeps both; unwrap
// strips the suffix of the image's own agent.
func TestDefaultTargetSuffixFromProfile(t *testing.T) {
	layout := sampleLayout(t)
	src := "oci:" + layout + ":app-1.0"
	otelDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(otelDir, "opentelemetry-javaagent.jar"), []byte("jar"), 0o644); err != nil {
		t.Fatal(err)
	}
	prof := filepath.Join("..", "..", "templates", "profiles", "examples", "opentelemetry-java.yaml")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--agent", sampleAgentDir(t), "--server-address", "10.0.0.5"}, ":app-1.0-jennifer@"},
		{[]string{"--profile", prof, "--agent", otelDir}, ":app-1.0-opentelemetry@"},
	} {
		r := jbuild(t, append([]string{"wrap", src, "-q"}, c.args...)...)
		if r.code != 0 || !strings.Contains(r.stdout, c.want) {
			t.Errorf("wrap %q: exit %d, stdout %q, stderr %q; want a target %q", c.args, r.code, r.stdout, r.stderr, c.want)
		}
	}
	// The output carries its profile: verify checks the agent's files
	// without the profile file.
	r := jbuild(t, "verify", "oci:"+layout+":app-1.0-opentelemetry")
	if r.code != 0 || strings.Contains(r.stdout, "skip") || !strings.Contains(r.stdout, "agent files") {
		t.Errorf("verify of the OpenTelemetry output: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = jbuild(t, "unwrap", "oci:"+layout+":app-1.0-opentelemetry", "-t", "oci:"+layout+":back", "-q")
	if r.code != 0 {
		t.Fatalf("unwrap: %d %s", r.code, r.stderr)
	}
	// No -t: the OpenTelemetry output unwraps to app-1.0 (already there,
	// the same image: nothing written).
	r = jbuild(t, "unwrap", "oci:"+layout+":app-1.0-opentelemetry")
	if r.code != 0 || !strings.Contains(r.stdout, ":app-1.0@") {
		t.Errorf("unwrap without -t: exit %d, stdout %q, stderr %q; want the target app-1.0", r.code, r.stdout, r.stderr)
	}
}

// A single-file agent as its registry serves it (the version in its name)
// is installed under the name the profile activates (agentFile), and the
// version is read from the name it was given as: no renaming by hand.
func TestSingleFileAgent(t *testing.T) {
	src := "oci:" + sampleLayout(t) + ":app-1.0"
	jar := filepath.Join(t.TempDir(), "opentelemetry-javaagent-2.33.1.jar")
	if err := os.WriteFile(jar, []byte("PK\x03\x04 not really a jar"), 0o644); err != nil {
		t.Fatal(err)
	}
	prof := filepath.Join("..", "..", "templates", "profiles", "examples", "opentelemetry-java.yaml")
	r := jbuild(t, "plan", src, "--profile", prof, "--agent", jar, "-o", "json")
	if r.code != 0 {
		t.Fatalf("plan: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{`"path": "/opt/opentelemetry/opentelemetry-javaagent.jar"`, `"io.jbuild.agent.version": "2.33.1"`, `-javaagent:/opt/opentelemetry/opentelemetry-javaagent.jar`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the plan lacks %s:\n%s", want, r.stdout)
		}
	}
}

// A user profile's own targetSuffix names the default target, and unwrap
// reads it back from the profile the output carries.
func TestUserProfileTargetSuffix(t *testing.T) {
	layout := sampleLayout(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "opentelemetry-javaagent.jar"), []byte("jar"), 0o644); err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(filepath.Join("..", "..", "templates", "profiles", "examples", "opentelemetry-java.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	prof := filepath.Join(t.TempDir(), "otel.yaml")
	if err := os.WriteFile(prof, append(orig, []byte("targetSuffix: -otel\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	r := jbuild(t, "wrap", "oci:"+layout+":app-1.0", "-q", "--profile", prof, "--agent", dir)
	if r.code != 0 || !strings.Contains(r.stdout, ":app-1.0-otel@") {
		t.Fatalf("wrap: exit %d, stdout %q, stderr %q; want the target app-1.0-otel", r.code, r.stdout, r.stderr)
	}
	r = jbuild(t, "unwrap", "oci:"+layout+":app-1.0-otel")
	if r.code != 0 || !strings.Contains(r.stdout, ":app-1.0@") {
		t.Errorf("unwrap without -t: exit %d, stdout %q, stderr %q; want the target app-1.0", r.code, r.stdout, r.stderr)
	}
}
