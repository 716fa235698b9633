package main

import (
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/internal/testing/faultproxy"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// A registry that answers 503 twice: the wrap waits it out and says so
// (in plain progress lines, as CI logs show them), and -q says nothing.
func TestWrapTellsOfRetries(t *testing.T) {
	reg := testenv.Registry(t)
	testenv.PushJavaLike(t, reg+"/retrynote/app:1")
	p := faultproxy.Start(t, reg)
	src := p.Addr() + "/retrynote/app:1"
	for _, quiet := range []bool{false, true} {
		p.Add(faultproxy.Rule{Method: "GET", Path: faultproxy.PathManifest, Times: 2, Kind: faultproxy.Status503})
		args := []string{"wrap", src, "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5", "--force"}
		if quiet {
			args = append(args, "-q")
		}
		r := jbuild(t, args...)
		if r.code != 0 {
			t.Fatalf("wrap through two 503s: exit %d\n%s", r.code, r.stderr)
		}
		n := strings.Count(r.stderr, "with 503 Service Unavailable; trying again")
		if quiet && n != 0 {
			t.Errorf("-q: %d retry notes:\n%s", n, r.stderr)
		}
		if !quiet && (n != 2 || !strings.Contains(r.stderr, "registry answered GET "+p.Addr()+"/v2/retrynote/app/manifests/1")) {
			t.Errorf("%d retry notes naming the request, want 2:\n%s", n, r.stderr)
		}
	}
}
