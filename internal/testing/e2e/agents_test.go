package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/runcheck"
)

// domainID is written by jbuild into each agent's settings; the test agents
// send it back, so a connection proves the generated settings were read.
const domainID = 4242

// bothEngines is where every runtime runs.
var bothEngines = []string{runcheck.EngineDocker, runcheck.EngineContainerd}

// wrapOptions are the user's settings at wrap time. The address is a
// placeholder: at run time the config is pointed at the test's listener
// (runcheck.ServerOverride), as `jbuild verify --run` does.
func wrapOptions() buildplan.Options {
	return buildplan.Options{ServerAddress: "jennifer.invalid", ServerPort: 5000, DomainID: domainID}
}

// For every runtime, in Docker and in containerd: the wrapped app image,
// run as a restricted pod runs it (non-root, read-only root, tmpfs for
// io.jbuild.volumes, host network), has its agent connect and send the
// domain id from the generated settings, and the app still answers; the
// Java base's own JAVA_TOOL_OPTIONS still takes effect; the unwrapped image
// never connects.
func TestAgentAttaches(t *testing.T) {
	requireHeavy(t)
	engines(t)
	cases := []struct {
		rt     Runtime
		agent  func(dir string) (string, error)
		marker string // what the app's answer must contain
	}{
		{Java, JavaAgent, "marker=" + BaseMarker},
		{Nodejs, NodejsAgent, "ok"},
		{Python, PythonAgent, "ok"},
		{PHP, PHPAgent, "ok"},
	}
	for _, c := range cases {
		t.Run(c.rt.Name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			img, err := c.rt.AppImage()
			if err != nil {
				t.Fatal(err)
			}
			agentDir, err := c.agent(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			w := wrapApp(t, c.rt.Name, img, agentDir, c.rt.Profile, wrapOptions(), bothEngines...)
			w.AppVolumes = c.rt.Volumes
			t.Logf("wrapped and loaded in %s; volumes %q, config %q", time.Since(start).Round(time.Millisecond),
				w.Labels[buildplan.LabelVolumes], w.Labels[buildplan.LabelConfig])
			for _, engine := range bothEngines {
				t.Run(engine, func(t *testing.T) {
					t.Parallel()
					res := run(t, runOptions(t, engine, w.WrappedRef, w, listen(t), freePort(t)))
					defer dumpOnFailure(t, res)
					want := fmt.Sprintf("JENNIFER domain_id=%d agent=%s\n", domainID, c.rt.Name)
					if !res.Connected || string(res.FirstBytes) != want {
						t.Errorf("wrapped: connected=%v, sent %q; want %q", res.Connected, res.FirstBytes, want)
					}
					if !res.AppAnswered || !strings.Contains(res.ProbeBody, c.marker) {
						t.Errorf("wrapped: app answered=%v with %q; want an answer containing %q", res.AppAnswered, res.ProbeBody, c.marker)
					}

					// The unwrapped image, with the same run settings except
					// what only exists in the wrapped image.
					opts := runOptions(t, engine, w.BaseRef, w, listen(t), freePort(t))
					opts.Config, opts.Volumes = nil, c.rt.Volumes
					opts.Grace = 3 * time.Second
					base := run(t, opts)
					defer dumpOnFailure(t, base)
					if base.Connected {
						t.Errorf("unwrapped image connected (sent %q)", base.FirstBytes)
					}
					if !base.AppAnswered || !strings.Contains(base.ProbeBody, c.marker) {
						t.Errorf("unwrapped: app answered=%v with %q", base.AppAnswered, base.ProbeBody)
					}
				})
			}
		})
	}
}
