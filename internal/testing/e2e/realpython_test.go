package e2e

import (
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// JenniferSoft's own Python agent (jennifer-python from PyPI), wrapped with
// the jennifer-python profile and run as a restricted pod: the agent starts
// at interpreter start-up (admin/sitecustomize.py through PYTHONPATH), its
// native jennifer_agent master reads the generated ini and connects to the
// configured data server, and the app keeps answering.
func TestRealPythonAgent(t *testing.T) {
	requireHeavy(t)
	engines(t)
	img, err := Python.AppImage()
	if err != nil {
		t.Fatal(err)
	}
	agentDir, err := RealPythonAgent(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := wrapApp(t, "python-real", img, agentDir, Python.Profile, wrapOptions(), bothEngines...)
	w.AppVolumes = Python.Volumes
	if v := w.Labels[buildplan.LabelAgentVersion]; v != RealPythonVersion {
		t.Errorf("agent version label %q, want %s (read from jennifer/__init__.py)", v, RealPythonVersion)
	}
	for _, engine := range bothEngines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			opts := runOptions(t, engine, w.WrappedRef, w, listen(t), freePort(t))
			// The agent's diagnostics on stdout, for the log on failure.
			opts.Env = append(opts.Env, "JENNIFER_DBG=1")
			res := run(t, opts)
			defer dumpOnFailure(t, res)
			// The native master opens its data connection with the protocol
			// name (seen with jennifer-python 5.6.5.9).
			if !res.Connected || !strings.HasPrefix(string(res.FirstBytes), "Jennifer5Protocol") {
				t.Errorf("the real Python agent: connected=%v, sent %q; want a connection starting with Jennifer5Protocol", res.Connected, truncate(res.FirstBytes, 200))
			}
			if !res.AppAnswered || !strings.Contains(res.ProbeBody, "ok") {
				t.Errorf("app answered=%v with %q", res.AppAnswered, res.ProbeBody)
			}
			t.Logf("the agent sent %d bytes first: %q", len(res.FirstBytes), truncate(res.FirstBytes, 200))
		})
	}
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
