package frontend

import (
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// The frontend as an image, both ways BuildKit invokes it: a `# syntax=`
// line (through the built-in dockerfile.v0), and gateway.v0 with source= on
// a Dockerfile that also carries the line (BuildKit then runs it twice).
// Either way the agent is injected exactly once.
func TestFrontendImageInjectsOnce(t *testing.T) {
	reg := testenv.RealRegistry(t)
	fe := testenv.FrontendImage(t)
	testenv.PushJavaLike(t, reg+"/fe/javabase:syntax")
	pushAgentImage(t, reg+"/fe/agent:java-syntax")
	df := "# syntax=" + fe + "\nFROM " + reg + "/fe/javabase:syntax\nCOPY app.jar /app/app.jar\n"
	args := map[string]string{ArgAgent: reg + "/fe/agent:java-syntax", ArgServerAddress: "10.0.0.5"}
	for _, route := range []struct {
		name     string
		frontend string
		attrs    map[string]string
	}{
		{"syntax line", "dockerfile.v0", nil},
		{"gateway.v0 source", "gateway.v0", map[string]string{"source": fe}},
	} {
		t.Run(route.name, func(t *testing.T) {
			out := reg + "/fe/app:syntax-" + strings.ReplaceAll(route.name, " ", "-")
			build{dockerfile: df, files: map[string]string{"app.jar": "jar"}, args: args, attrs: route.attrs, frontend: route.frontend, push: out}.mustRun(t)
			img := image(t, out)
			cf, _ := img.ConfigFile()
			agents := 0
			for _, h := range cf.History {
				if h.Comment == "jbuild agent layer" {
					agents++
				}
			}
			jto := envOf(cf, "JAVA_TOOL_OPTIONS")
			if agents != 1 || strings.Count(jto, "-javaagent:") != 1 {
				t.Errorf("%d jbuild agent layers in the history, JAVA_TOOL_OPTIONS %q: want the agent exactly once", agents, jto)
			}
			layers, _ := img.Layers()
			base, _ := image(t, reg+"/fe/javabase:syntax").Layers()
			if len(layers) != len(base)+3 {
				t.Errorf("%d layers, want %d (base + COPY + agent + settings)", len(layers), len(base)+3)
			}
		})
	}
}
