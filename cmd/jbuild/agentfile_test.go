package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The jar as its registry serves it, without --profile: the built-in
// opentelemetry-java profile is picked by the file's name and the jar is
// installed under the name it activates (not unpacked as an archive).
func TestSingleFileAgentWithoutProfile(t *testing.T) {
	src := "oci:" + sampleLayout(t) + ":app-1.0"
	jar := filepath.Join(t.TempDir(), "opentelemetry-javaagent-2.33.1.jar")
	if err := os.WriteFile(jar, []byte("PK\x03\x04 not really a jar"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := jbuild(t, "plan", src, "--agent", jar, "-o", "json")
	if r.code != 0 {
		t.Fatalf("plan: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{`"profile": "opentelemetry-java"`, `"path": "/opt/opentelemetry/opentelemetry-javaagent.jar"`, `"io.jbuild.agent.version": "2.33.1"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the plan lacks %s:\n%s", want, r.stdout)
		}
	}
}
