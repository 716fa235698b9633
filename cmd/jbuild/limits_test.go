package main

import (
	"strings"
	"testing"
)

// The entry limit names the flag that raises it, and the flag works; a
// folder is called a folder.
func TestAgentMaxEntries(t *testing.T) {
	src := "oci:" + sampleLayout(t) + ":app-1.0"
	agentDir := sampleAgentDir(t)
	base := []string{"plan", src, "--agent", agentDir, "--server-address", "10.0.0.5"}
	r := jbuild(t, append(base, "--agent-max-entries", "2")...)
	if r.code != 1 || !strings.Contains(r.stderr, "reading agent folder "+agentDir) || !strings.Contains(r.stderr, "more than 2 entries") ||
		!strings.Contains(r.stderr, "raise the limit with --agent-max-entries") || strings.Contains(r.stderr, "archive") {
		t.Errorf("--agent-max-entries 2: exit %d, stderr %q; want exit 1 naming the folder, the limit and the flag", r.code, r.stderr)
	}
	r = jbuild(t, append(base, "--agent-max-size", "10")...)
	if r.code != 1 || !strings.Contains(r.stderr, "raise the limit with --agent-max-size") {
		t.Errorf("--agent-max-size 10: exit %d, stderr %q; want exit 1 naming the flag", r.code, r.stderr)
	}
	if r := jbuild(t, append(base, "--agent-max-entries", "200000")...); r.code != 0 {
		t.Errorf("--agent-max-entries 200000: exit %d: %s", r.code, r.stderr)
	}
	for _, bad := range []string{"0", "-1", "1e6", "0x100"} {
		if r := jbuild(t, append(base, "--agent-max-entries", bad)...); r.code != 2 || !strings.Contains(r.stderr, `"--agent-max-entries" flag`) {
			t.Errorf("--agent-max-entries %s: exit %d, stderr %q; want exit 2 naming the flag", bad, r.code, r.stderr)
		}
	}
}
