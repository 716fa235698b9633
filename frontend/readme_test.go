package frontend

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// readmeFrontendRef is the frontend image the commands of docs/frontend.md
// (the frontend guide, moved out of the README) name.
const readmeFrontendRef = "registry.example.com/jbuild/frontend:1"

// readmeGatewayCommand returns the `buildctl build --frontend gateway.v0`
// command of docs/frontend.md, its line continuations joined.
func readmeGatewayCommand(t *testing.T) string {
	t.Helper()
	dt, err := os.ReadFile("../docs/frontend.md")
	if err != nil {
		t.Fatal(err)
	}
	md := strings.ReplaceAll(string(dt), "\\\n", " ")
	cmd := regexp.MustCompile(`buildctl build --frontend gateway\.v0 [^\n]*`).FindString(md)
	if cmd == "" {
		t.Fatal("docs/frontend.md has no buildctl build --frontend gateway.v0 command")
	}
	// Its folders are relative to examples/java-sample: the shell block
	// holding it must start there.
	block := md[:strings.Index(md, cmd)]
	block = block[strings.LastIndex(block, "```sh\n")+len("```sh\n"):]
	if !strings.HasPrefix(block, "cd examples/java-sample\n") {
		t.Fatalf("docs/frontend.md: the block of %q does not start with cd examples/java-sample", cmd)
	}
	return cmd
}

// The buildctl command with gateway.v0 of docs/frontend.md, run as written
// on a Dockerfile whose `# syntax=` line names the docs' placeholder image
// (as the examples' Dockerfiles do), the frontend image standing in for
// the one the docs name: it builds the monitored image with the agent
// folder it passes. Without its cmdline option BuildKit would hand the
// build to the `# syntax=` image, which is why the docs pass it.
func TestReadmeGatewayCommand(t *testing.T) {
	cmd := readmeGatewayCommand(t)
	reg := testenv.RealRegistry(t)
	fe := testenv.FrontendImage(t)
	testenv.PushJavaLike(t, reg+"/fe/javabase:readme")
	attrs := map[string]string{}
	var agentDir string
	for _, m := range regexp.MustCompile(`--(opt|local|frontend) (\S+)`).FindAllStringSubmatch(cmd, -1) {
		switch m[1] {
		case "frontend":
			if m[2] != "gateway.v0" {
				t.Fatalf("--frontend %s", m[2])
			}
		case "opt":
			k, v, _ := strings.Cut(m[2], "=")
			if v == readmeFrontendRef {
				v = fe
			}
			attrs[k] = v
		case "local":
			k, v, _ := strings.Cut(m[2], "=")
			if k == AgentContext {
				// docs/frontend.md runs it from examples/java-sample.
				agentDir = filepath.Join("../examples/java-sample", v)
			}
		}
	}
	if attrs["source"] != fe || attrs["cmdline"] != fe || agentDir == "" {
		t.Fatalf("%s: want --opt source= and cmdline= naming the frontend image and a --local %s", cmd, AgentContext)
	}
	delete(attrs, "context:"+AgentContext) // the build helper sets it with the folder
	df := "# syntax=" + readmeFrontendRef + "\nFROM " + reg + "/fe/javabase:readme\nCOPY app.jar /app/app.jar\n"
	out := reg + "/fe/app:readme-gateway"
	build{dockerfile: df, files: map[string]string{"app.jar": "jar"}, attrs: attrs, agentDir: agentDir, frontend: "gateway.v0", push: out}.mustRun(t)
	cf, err := image(t, out).ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if jto := envOf(cf, "JAVA_TOOL_OPTIONS"); strings.Count(jto, "-javaagent:") != 1 {
		t.Errorf("JAVA_TOOL_OPTIONS %q: want the agent once", jto)
	}

	// Without cmdline, the `# syntax=` line takes over.
	delete(attrs, "cmdline")
	_, err = build{dockerfile: df, files: map[string]string{"app.jar": "jar"}, attrs: attrs, agentDir: agentDir, frontend: "gateway.v0"}.run(t)
	if err == nil || !strings.Contains(err.Error(), "registry.example.com") {
		t.Errorf("without cmdline: err %v, want the build handed to %s (and failing)", err, readmeFrontendRef)
	}
}
