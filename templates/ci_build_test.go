package templates_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	yaml "go.yaml.in/yaml/v3"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/imagefs"
	"github.com/jbuild-dev/jbuild/internal/testing/e2e"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/templates"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The build steps of the Azure Pipelines, AWS CodeBuild and Google Cloud
// Build templates run `docker buildx build` / `docker build` on the
// runner's default builder: Docker Engine's own (buildx's docker driver,
// no MergeOp on overlay2). Here their commands, taken from the templates
// as written (not retyped), run against the test dockerd 20.10 with the
// pipeline's variables set as the CI system would set them: each builds a
// Dockerfile with the jbuild frontend (BUILDKIT_SYNTAX) and the agent
// image, pushes it to the test registry, and the image pushed under the
// digest the step computed is the monitored one.
func TestCIBuildCommandsOnDockerEngine(t *testing.T) {
	d := testenv.Buildx(t)
	reg := testenv.RealRegistry(t)
	fe := testenv.FrontendImage(t)
	app, err := e2e.Java.AppImage()
	if err != nil {
		t.Fatal(err)
	}
	base := reg + "/ci/javaapp:1"
	testenv.PushImage(t, base, app)
	agentRef := reg + "/ci/agent:java"
	pushTestAgent(t, agentRef)
	ctxDir := t.TempDir()
	// A user's Dockerfile, without a # syntax= line: the templates name
	// the frontend with BUILDKIT_SYNTAX.
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte("FROM "+base+"\nENV APP_STAGE=ci\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{
		"frontend": fe, "agent": agentRef, "server": "10.0.0.5", "port": "5000", "domain": "4444",
	}

	t.Run("azure", func(t *testing.T) {
		target := reg + "/ci/azure:42"
		script := azureBuildScript(t)
		macros := map[string]string{
			"jennifer.frontend": settings["frontend"], "jennifer.agent": settings["agent"],
			"jennifer.serverAddress": settings["server"], "jennifer.serverPort": settings["port"],
			"jennifer.domainId": settings["domain"], "Agent.TempDirectory": t.TempDir(),
			"imageRepository": reg + "/ci/azure", "imageTag": "42",
		}
		// Azure replaces $(name) macros of defined variables before bash
		// runs the script; $(command) substitutions stay for bash.
		script = regexp.MustCompile(`\$\(([A-Za-z.]+)\)`).ReplaceAllStringFunc(script, func(m string) string {
			if v, ok := macros[m[2:len(m)-1]]; ok {
				return v
			}
			return m
		})
		pinned := runScript(t, d, ctxDir, script+"\necho \"PINNED=$pinned\"\n", nil)
		checkPushed(t, target, pinned, settings["domain"])
	})

	t.Run("aws", func(t *testing.T) {
		target := reg + "/ci/aws:abc123"
		env := []string{
			"JENNIFER_FRONTEND=" + settings["frontend"], "JENNIFER_AGENT=" + settings["agent"],
			"JENNIFER_SERVER_ADDRESS=" + settings["server"], "JENNIFER_SERVER_PORT=" + settings["port"],
			"JENNIFER_DOMAIN_ID=" + settings["domain"], "TARGET=" + target,
		}
		pinned := runScript(t, d, ctxDir, awsBuildScript(t)+"\necho \"PINNED=$JBUILD_PINNED\"\n", env)
		checkPushed(t, target, pinned, settings["domain"])
	})

	// The docker builder of Cloud Build runs `docker build`: with a docker
	// CLI of 23 or later that is buildx (the plugin here); Debian's 20.10
	// CLI (/usr/bin/docker) uses its own BuildKit client (DOCKER_BUILDKIT=1
	// in options.env).
	for _, c := range []struct{ name, cli, tag string }{{"gcp", d.Bin, "sha1"}, {"gcp docker 20.10 CLI", "/usr/bin/docker", "sha2"}} {
		t.Run(c.name, func(t *testing.T) {
			subs := map[string]string{
				"_JENNIFER_FRONTEND": settings["frontend"], "_JENNIFER_AGENT": settings["agent"],
				"_JENNIFER_SERVER_ADDRESS": settings["server"], "_JENNIFER_SERVER_PORT": settings["port"],
				"_JENNIFER_DOMAIN_ID": settings["domain"], "_IMAGE": reg + "/ci/gcp", "_TAG": c.tag,
			}
			steps, env := gcpSteps(t, subs, "build", "push")
			// Cloud Build runs the docker builder's entrypoint, docker, with
			// the step's args in /workspace (no shell), with options.env.
			for _, args := range steps {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				cmd := exec.CommandContext(ctx, c.cli, args...)
				cmd.Env = append(d.Env(), env...)
				cmd.Dir = ctxDir
				out, err := cmd.CombinedOutput()
				cancel()
				if err != nil {
					t.Fatalf("%s %s: %v\n%s", c.cli, strings.Join(args, " "), err, out)
				}
			}
			checkPushed(t, reg+"/ci/gcp:"+c.tag, "", settings["domain"])
		})
	}
}

// azureBuildScript is the build branch of the template's bash step: the
// target line and the else branch of `if [ "$(jbuild.mode)" = wrap ]`.
func azureBuildScript(t *testing.T) string {
	t.Helper()
	var doc struct {
		Stages []struct {
			Jobs []struct {
				Steps []map[string]any `yaml:"steps"`
			} `yaml:"jobs"`
		} `yaml:"stages"`
	}
	unmarshalCI(t, "azure/azure-pipelines.yml", &doc)
	for _, st := range doc.Stages {
		for _, j := range st.Jobs {
			for _, s := range j.Steps {
				if b, ok := s["bash"].(string); ok && strings.Contains(b, "docker buildx build") {
					var target string
					for _, l := range strings.Split(b, "\n") {
						if strings.HasPrefix(strings.TrimSpace(l), "target=") {
							target = l
						}
					}
					if target == "" {
						t.Fatalf("azure: no target= line in the build step:\n%s", b)
					}
					return "set -euo pipefail\n" + target + "\n" + elseBranch(t, "azure", b)
				}
			}
		}
	}
	t.Fatal("azure: no bash step runs docker buildx build")
	return ""
}

// awsBuildScript is the else branch of the build phase's command.
func awsBuildScript(t *testing.T) string {
	t.Helper()
	var doc struct {
		Phases map[string]struct {
			Commands []string `yaml:"commands"`
		} `yaml:"phases"`
	}
	unmarshalCI(t, "aws/buildspec.yml", &doc)
	for _, c := range doc.Phases["build"].Commands {
		if strings.Contains(c, "docker buildx build") {
			return "set -e\n" + elseBranch(t, "aws", c)
		}
	}
	t.Fatal("aws: no build command runs docker buildx build")
	return ""
}

// gcpSteps are the args of the named steps of cloudbuild.yaml with the
// substitutions made, and the build's options.env.
func gcpSteps(t *testing.T, subs map[string]string, ids ...string) ([][]string, []string) {
	t.Helper()
	var doc struct {
		Options struct {
			Env []string `yaml:"env"`
		} `yaml:"options"`
		Steps []struct {
			ID   string   `yaml:"id"`
			Name string   `yaml:"name"`
			Args []string `yaml:"args"`
		} `yaml:"steps"`
	}
	unmarshalCI(t, "gcp/cloudbuild.yaml", &doc)
	sub := regexp.MustCompile(`\$\{(_[A-Z_]+)\}`)
	var out [][]string
	for _, id := range ids {
		found := false
		for _, s := range doc.Steps {
			if s.ID != id {
				continue
			}
			found = true
			if !strings.HasSuffix(s.Name, "/docker") {
				t.Fatalf("gcp: step %s runs %s, not the docker builder", id, s.Name)
			}
			var args []string
			for _, a := range s.Args {
				args = append(args, sub.ReplaceAllStringFunc(a, func(m string) string {
					v, ok := subs[m[2:len(m)-1]]
					if !ok {
						t.Fatalf("gcp: step %s uses %s, which the test does not set", id, m)
					}
					return v
				}))
			}
			// The step's "." is the workspace, the command's directory here.
			out = append(out, args)
		}
		if !found {
			t.Fatalf("gcp: no step %s", id)
		}
	}
	return out, doc.Options.Env
}

func unmarshalCI(t *testing.T, file string, v any) {
	t.Helper()
	data, err := templates.CI.ReadFile("ci/" + file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// elseBranch is the body between the first "else" line and the last "fi"
// line of script.
func elseBranch(t *testing.T, what, script string) string {
	t.Helper()
	lines := strings.Split(script, "\n")
	start, end := -1, -1
	for i, l := range lines {
		switch strings.TrimSpace(l) {
		case "else":
			if start < 0 {
				start = i
			}
		case "fi":
			end = i
		}
	}
	if start < 0 || end < start {
		t.Fatalf("%s: no if/else/fi in the build script:\n%s", what, script)
	}
	body := strings.Join(lines[start+1:end], "\n")
	if !strings.Contains(body, "docker buildx build") {
		t.Fatalf("%s: the else branch does not build:\n%s", what, body)
	}
	return body
}

// runScript runs script with bash in dir with the docker CLI's environment
// and env, and returns what it printed as PINNED=.
func runScript(t *testing.T, d *testenv.DockerCLI, dir, script string, env []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script)
	cmd.Dir = dir
	// The CLI of the runner: docker from DockerCLI, first in PATH.
	path := filepath.Dir(d.Bin) + string(os.PathListSeparator) + os.Getenv("PATH")
	cmd.Env = append(append(d.Env(), "PATH="+path), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the template's build step: %v\n%s\nscript:\n%s", err, out, script)
	}
	m := regexp.MustCompile(`(?m)^PINNED=(.*)$`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("the step printed no pinned reference:\n%s", out)
	}
	return m[1]
}

// checkPushed reads target from the registry: the monitored image of the
// app (the jennifer-java profile, the agent once in JAVA_TOOL_OPTIONS after
// the app's own option, the domain id of the build args in the agent
// config), and pinned, when the step computed one, is target at the
// digest the registry serves.
func checkPushed(t *testing.T, target, pinned, domain string) {
	t.Helper()
	ref, err := name.ParseReference(target, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatalf("the step did not push %s: %v", target, err)
	}
	if pinned != "" && pinned != target+"@"+desc.Digest.String() {
		t.Errorf("the step pinned %q, the registry serves %s@%s", pinned, target, desc.Digest)
	}
	img, err := desc.Image()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	labels := cf.Config.Labels
	if labels[buildplan.LabelProfile] != "jennifer-java" {
		t.Errorf("%s: profile label %q, want jennifer-java", target, labels[buildplan.LabelProfile])
	}
	var jto string
	for _, e := range cf.Config.Env {
		if v, ok := strings.CutPrefix(e, "JAVA_TOOL_OPTIONS="); ok {
			jto = v
		}
	}
	if !strings.HasPrefix(jto, "-Dapp.marker="+e2e.BaseMarker+" ") || strings.Count(jto, "-javaagent:") != 1 {
		t.Errorf("%s: JAVA_TOOL_OPTIONS %q: want the app's option, then the agent once", target, jto)
	}
	conf := configFile(t, img, labels[buildplan.LabelConfig])
	if !strings.Contains(conf, "domain_id = "+domain) || !strings.Contains(conf, "server_address = 10.0.0.5") {
		t.Errorf("%s: %s does not carry the build args:\n%s", target, labels[buildplan.LabelConfig], conf)
	}
}

func configFile(t *testing.T, img v1.Image, path string) string {
	t.Helper()
	if path == "" {
		t.Fatal("the image has no io.jbuild.config label")
	}
	b, err := imagefs.New(img, "the pushed image", []string{path}).ReadFile(path, 1<<20)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return string(b)
}

// pushTestAgent publishes the e2e test agent (it connects and sends its
// domain id) as `jbuild agent push` does.
func pushTestAgent(t *testing.T, ref string) {
	t.Helper()
	dir, err := e2e.JavaAgent(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e2e.PushJavaAgentImage(t, dir, ref)
}
