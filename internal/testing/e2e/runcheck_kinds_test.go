package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/runcheck"
)

// The run check's HTTP kinds with a real container in both engines: an
// "agent" (busybox wget) posts an OTLP export to the endpoint the run
// gives it, or makes any HTTP request; what it sent is what the run
// reports. A POST to a path the profile does not list does not count.
func TestRuncheckHTTPKinds(t *testing.T) {
	requireHeavy(t)
	engines(t)
	// To $ENDPOINT$SIGNAL: a POST with a protobuf body, a GET when GET=1.
	script := `sleep 1
if [ "$GET" = 1 ]; then wget -q -O- "$ENDPOINT$SIGNAL"; else
wget -q -O- --header 'Content-Type: application/x-protobuf' --post-data "$(printf 'span-from-%s' "$(id -u)")" "$ENDPOINT$SIGNAL"; fi
echo "agent: sent to $ENDPOINT$SIGNAL rc=$?"
sleep 60
`
	img := busyboxWith(t, map[string][]byte{"app/agent.sh": []byte(script)}, func(c *v1.Config) {
		c.Entrypoint = []string{"sh", "/app/agent.sh"}
		c.User = "1000:1000"
	})
	for _, engine := range bothEngines {
		load(t, engine, daemonRef("runcheck-http", "agent"), img)
	}
	cases := []struct {
		name  string
		check buildplan.RunCheck
		env   []string
		want  string // the report; "" for no report
	}{
		{"otlp-http", buildplan.RunCheck{Kind: buildplan.RunCheckOTLPHTTP}, []string{"SIGNAL=/v1/traces"}, "POST /v1/traces, application/x-protobuf, 14 bytes"},
		{"otlp-http other path", buildplan.RunCheck{Kind: buildplan.RunCheckOTLPHTTP, Paths: []string{"/v1/metrics"}}, []string{"SIGNAL=/v1/traces"}, ""},
		{"http", buildplan.RunCheck{Kind: buildplan.RunCheckHTTP}, []string{"SIGNAL=/anything", "GET=1"}, "GET /anything, 0 bytes"},
	}
	for _, engine := range bothEngines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			host, ctr := engines(t)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					ln := listen(t)
					check := tc.check
					opts := runcheck.Options{
						Engine: engine, DockerHost: host, ContainerdAddress: ctr,
						Image:        daemonRef("runcheck-http", "agent"),
						ReadOnlyRoot: true,
						Check:        &check,
						Env:          append([]string{fmt.Sprintf("ENDPOINT=http://127.0.0.1:%d", runcheck.Port(ln))}, tc.env...),
						Listener:     ln,
						WaitFor:      8 * time.Second,
					}
					res := run(t, opts)
					defer dumpOnFailure(t, res)
					if tc.want == "" {
						if res.Connected {
							t.Errorf("counted %s, want nothing counted", res.Report)
						}
						if !strings.Contains(res.Logs, "agent: sent") {
							t.Errorf("the agent did not run: %q", res.Logs)
						}
						return
					}
					if !res.Connected || res.Report != tc.want {
						t.Errorf("%s; want the report %q", res, tc.want)
					}
					if tc.check.Kind == buildplan.RunCheckOTLPHTTP && (len(res.Requests) != 1 || string(res.Requests[0].Body) != "span-from-1000") {
						t.Errorf("requests %v, want one with the body span-from-1000", res.Requests)
					}
				})
			}
		})
	}
}
