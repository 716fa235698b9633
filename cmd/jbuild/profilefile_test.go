package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// javaProfileWith is the built-in Java profile's text with old replaced by
// new, written to a file.
func javaProfileWith(t *testing.T, old, new string) string {
	t.Helper()
	data, err := os.ReadFile("../../templates/profiles/jennifer-java.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.Contains(s, old) {
		t.Fatalf("the Java profile has no %q", old)
	}
	p := filepath.Join(t.TempDir(), "profile.yaml")
	if err := os.WriteFile(p, []byte(strings.Replace(s, old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Profile files: an install dir that a run-time mount hides is refused
// naming installDir and why; modes are read as written (an unquoted 0666
// was reported as "438"). A profile's own install dir that merely looks
// random is no secret.
func TestProfileFileChecks(t *testing.T) {
	src := "oci:" + sampleLayout(t) + ":app-1.0"
	plan := func(prof string) run {
		return jbuild(t, "plan", src, "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5", "--profile", prof)
	}
	for _, dir := range []string{"/proc/jennifer", "/sys", "/dev/apm", "/tmp/jennifer", "/run/apm", "/var/run/apm"} {
		r := plan(javaProfileWith(t, "installDir: /opt/jennifer/agent.java", "installDir: "+dir))
		if r.code != 1 || !strings.Contains(r.stderr, `installDir: "`+dir+`" cannot hold the agent`) || !strings.Contains(r.stderr, "install it below /opt") {
			t.Errorf("installDir %s: exit %d, stderr %q; want exit 1 naming installDir, why and where instead", dir, r.code, r.stderr)
		}
	}
	files := "\nfiles:\n  - path: bin/x.sh\n    content: \"#!/bin/sh\"\n    mode: "
	r := plan(javaProfileWith(t, "\nenv:", files+"0755\nenv:"))
	if r.code != 0 {
		t.Errorf("mode 0755 unquoted: exit %d: %s", r.code, r.stderr)
	}
	r = plan(javaProfileWith(t, "\nenv:", files+"0666\nenv:"))
	if r.code != 0 || strings.Contains(r.stderr, "438") {
		t.Errorf("mode 0666 unquoted: exit %d: %s", r.code, r.stderr)
	}
	r = plan(javaProfileWith(t, "\nenv:", files+"0x1ff\nenv:"))
	if r.code != 1 || !strings.Contains(r.stderr, `files[0].mode: "0x1ff" is not an octal file mode`) {
		t.Errorf("mode 0x1ff: exit %d, stderr %q; want the mode as written", r.code, r.stderr)
	}
	r = plan(javaProfileWith(t, "installDir: /opt/jennifer/agent.java", "installDir: /srv/apm/jennifer17"))
	if r.code != 0 || strings.Contains(r.stdout+r.stderr, "secret") {
		t.Errorf("installDir /srv/apm/jennifer17: exit %d, a secret warning:\n%s%s", r.code, r.stdout, r.stderr)
	}
}
