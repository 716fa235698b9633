package templates

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

type obj = map[string]any

// inCI reports whether the tests run in CI (CI=true, as GitHub Actions
// and GitLab CI set it).
func inCI() bool {
	v := os.Getenv("CI")
	return v == "true" || v == "1"
}

func loadCI(t *testing.T, name string) (obj, string) {
	t.Helper()
	data, err := CI.ReadFile("ci/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m obj
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: not YAML: %v", name, err)
	}
	return m, string(data)
}

func need[T any](t *testing.T, where string, v any) T {
	t.Helper()
	x, ok := v.(T)
	if !ok {
		var zero T
		t.Fatalf("%s: got %T (%v), want %T", where, v, v, zero)
	}
	return x
}

// checkShell runs bash -n on a script from a template: a syntax error in a
// CI step shows up here, not in the user's pipeline. Without bash the
// check cannot run: its subtest skips with -short on a developer's machine
// and fails otherwise (in CI above all), rather than passing unchecked.
func checkShell(t *testing.T, where, script string) {
	t.Helper()
	t.Run("bash -n "+where, func(t *testing.T) {
		bash, err := exec.LookPath("bash")
		if err != nil {
			if testing.Short() && !inCI() {
				t.Skipf("bash not found, the shell syntax is not checked: %v", err)
			}
			t.Fatalf("bash not found, the shell syntax cannot be checked (install bash; with -short outside CI this skips): %v", err)
		}
		cmd := exec.Command(bash, "-n")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("shell syntax: %v\n%s\n%s", err, out, script)
		}
	})
}

// Every template wraps or builds with the frontend, renders with jbuild k8s
// and deploys with kubectl apply.
func checkFlow(t *testing.T, name, text string, platform string) {
	t.Helper()
	for _, want := range []string{"k8s", "JENNIFER_SERVER_ADDRESS", "--min", "--max", "apply"} {
		if !strings.Contains(text, want) {
			t.Errorf("%s does not mention %q", name, want)
		}
	}
	if !strings.Contains(text, "wrap") && !strings.Contains(text, "BUILDKIT_SYNTAX") {
		t.Errorf("%s neither wraps nor builds with the frontend", name)
	}
	if platform != "" && !strings.Contains(text, "cluster "+platform) && !strings.Contains(text, "cluster="+platform) && !strings.Contains(text, "_K8S_PLATFORM: "+platform) {
		t.Errorf("%s does not render for --cluster %s", name, platform)
	}
	// jbuild k8s's renamed flags: --platform is the image's os/arch
	// elsewhere, -o an output format.
	for _, old := range []string{"--platform eks", "--platform aks", "--platform gke", "--platform=${_K8S_PLATFORM}", "--platform \"$"} {
		if strings.Contains(text, old) {
			t.Errorf("%s passes jbuild k8s the deprecated %q: use --cluster", name, old)
		}
	}
}

func TestCIGitHubAction(t *testing.T) {
	m, text := loadCI(t, "github/action.yml")
	for _, k := range []string{"name", "description", "inputs", "outputs", "runs"} {
		if m[k] == nil {
			t.Errorf("action.yml: no %s", k)
		}
	}
	runs := need[obj](t, "runs", m["runs"])
	if runs["using"] != "composite" {
		t.Errorf("runs.using = %v", runs["using"])
	}
	steps := need[[]any](t, "runs.steps", runs["steps"])
	inputs := need[obj](t, "inputs", m["inputs"])
	for i, s := range steps {
		st := need[obj](t, fmt.Sprintf("step %d", i), s)
		switch {
		case st["uses"] != nil:
		case st["run"] != nil:
			if st["shell"] == nil {
				t.Errorf("step %d (%v): composite run steps need shell", i, st["name"])
			}
			checkShell(t, fmt.Sprint("github step ", st["name"]), st["run"].(string))
		default:
			t.Errorf("step %d: neither uses nor run", i)
		}
	}
	// Every ${{ inputs.X }} is declared.
	for _, part := range strings.Split(text, "inputs.")[1:] {
		name := strings.FieldsFunc(part, func(r rune) bool { return r == ' ' || r == '}' || r == '\'' || r == '\n' || r == '=' })[0]
		if _, ok := inputs[name]; !ok {
			t.Errorf("inputs.%s used but not declared", name)
		}
	}
	checkFlow(t, "github/action.yml", text, "")

	w, _ := loadCI(t, "github/workflow.yml")
	if w["on"] == nil || w["name"] == nil {
		t.Error("workflow.yml: no on or name")
	}
	for id, j := range need[obj](t, "jobs", w["jobs"]) {
		job := need[obj](t, "job "+id, j)
		if job["runs-on"] == nil || len(need[[]any](t, "steps", job["steps"])) == 0 {
			t.Errorf("job %s: runs-on and steps required", id)
		}
	}
}

func TestCIGitLab(t *testing.T) {
	m, text := loadCI(t, "gitlab/jbuild.gitlab-ci.yml")
	stages := map[string]bool{}
	for _, s := range need[[]any](t, "stages", m["stages"]) {
		stages[s.(string)] = true
	}
	jobs := 0
	for k, v := range m {
		if k == "stages" || k == "variables" || strings.HasPrefix(k, ".") {
			continue
		}
		job := need[obj](t, k, v)
		jobs++
		stage, _ := job["stage"].(string)
		if !stages[stage] {
			t.Errorf("job %s: stage %q not in stages", k, stage)
		}
		script := need[[]any](t, k+".script", job["script"])
		var sb strings.Builder
		if ext, ok := job["extends"].(string); ok {
			base := need[obj](t, ext, m[ext])
			for _, l := range need[[]any](t, ext+".before_script", base["before_script"]) {
				sb.WriteString(flatten(l))
			}
		}
		for _, l := range script {
			sb.WriteString(flatten(l))
		}
		checkShell(t, "gitlab job "+k, sb.String())
		if job["image"] == nil && job["extends"] == nil {
			t.Errorf("job %s: no image", k)
		}
	}
	if jobs < 3 {
		t.Errorf("%d jobs", jobs)
	}
	for _, v := range need[obj](t, "variables", m["variables"]) {
		if _, ok := v.(string); !ok {
			t.Errorf("variables must be strings for GitLab, got %T %v", v, v)
		}
	}
	checkFlow(t, "gitlab", text, "")
}

// flatten turns a script entry (a line, or a list from a YAML anchor) into
// shell text.
func flatten(v any) string {
	switch x := v.(type) {
	case string:
		return x + "\n"
	case []any:
		var s string
		for _, e := range x {
			s += flatten(e)
		}
		return s
	}
	return fmt.Sprintln(v)
}

func TestCIAzure(t *testing.T) {
	m, text := loadCI(t, "azure/azure-pipelines.yml")
	if m["trigger"] == nil || m["pool"] == nil {
		t.Error("no trigger or pool")
	}
	stages := need[[]any](t, "stages", m["stages"])
	for _, s := range stages {
		st := need[obj](t, "stage", s)
		if st["stage"] == nil {
			t.Errorf("stage without name: %v", st)
		}
		for _, j := range need[[]any](t, "jobs", st["jobs"]) {
			job := need[obj](t, "job", j)
			if job["job"] == nil && job["deployment"] == nil {
				t.Errorf("job without name: %v", job)
			}
			for _, s := range need[[]any](t, "steps", job["steps"]) {
				step := need[obj](t, "step", s)
				switch {
				case step["task"] != nil:
					if !strings.Contains(step["task"].(string), "@") {
						t.Errorf("task %v: no version", step["task"])
					}
					need[obj](t, "task inputs", step["inputs"])
				case step["bash"] != nil:
					// Azure macros $(x) are command substitutions to bash -n: fine.
					checkShell(t, "azure bash step", step["bash"].(string))
				case step["publish"] != nil, step["download"] != nil, step["script"] != nil:
				default:
					t.Errorf("unknown step %v", step)
				}
			}
		}
	}
	checkFlow(t, "azure", text, "aks")
	if !strings.Contains(text, "azurecr.io") || !strings.Contains(text, "kubernetesCluster") {
		t.Error("azure: not ACR to AKS")
	}
}

func TestCICodeBuild(t *testing.T) {
	m, text := loadCI(t, "aws/buildspec.yml")
	if fmt.Sprint(m["version"]) != "0.2" {
		t.Errorf("version = %v, want 0.2", m["version"])
	}
	phases := need[obj](t, "phases", m["phases"])
	var sb strings.Builder
	for _, p := range []string{"install", "pre_build", "build", "post_build"} {
		ph := need[obj](t, p, phases[p])
		for _, c := range need[[]any](t, p+".commands", ph["commands"]) {
			sb.WriteString(c.(string) + "\n")
		}
	}
	checkShell(t, "buildspec commands", sb.String())
	for k := range phases {
		switch k {
		case "install", "pre_build", "build", "post_build":
		default:
			t.Errorf("unknown phase %s", k)
		}
	}
	need[obj](t, "env.variables", need[obj](t, "env", m["env"])["variables"])
	checkFlow(t, "codebuild", text, "eks")
	if !strings.Contains(text, "ecr get-login-password") || !strings.Contains(text, "eks update-kubeconfig") {
		t.Error("codebuild: not ECR to EKS")
	}
}

func TestCICloudBuild(t *testing.T) {
	for _, name := range []string{"gcp/cloudbuild.yaml", "gcp/cloudbuild-wrap.yaml"} {
		m, text := loadCI(t, name)
		steps := need[[]any](t, name+" steps", m["steps"])
		jbuildSteps := 0
		for i, s := range steps {
			st := need[obj](t, fmt.Sprintf("%s step %d", name, i), s)
			if st["name"] == nil || (st["args"] == nil && st["entrypoint"] == nil) {
				t.Errorf("%s step %d: name and args required", name, i)
			}
			if st["name"] == "${_JBUILD_IMAGE}" {
				jbuildSteps++ // jbuild's own image as the step image
			}
			if st["entrypoint"] == "bash" {
				args := need[[]any](t, "args", st["args"])
				checkShell(t, name+" bash step", strings.ReplaceAll(args[len(args)-1].(string), "$$", "$"))
			}
		}
		if jbuildSteps == 0 {
			t.Errorf("%s: no step runs the jbuild image", name)
		}
		subs := need[obj](t, "substitutions", m["substitutions"])
		for k := range subs {
			if !strings.HasPrefix(k, "_") {
				t.Errorf("%s: user substitution %s must start with _", name, k)
			}
		}
		// Every ${_X} used is declared.
		for _, part := range strings.Split(text, "${_")[1:] {
			k := "_" + part[:strings.Index(part, "}")]
			if _, ok := subs[k]; !ok {
				t.Errorf("%s: ${%s} not in substitutions", name, k)
			}
		}
		checkFlow(t, name, text, "gke")
	}
	m, _ := loadCI(t, "gcp/cloudbuild.yaml")
	if len(need[[]any](t, "images", m["images"])) == 0 {
		t.Error("cloudbuild.yaml: no images")
	}
}

func TestCIEveryFileTested(t *testing.T) {
	tested := map[string]bool{"ci/github/action.yml": true, "ci/github/workflow.yml": true, "ci/gitlab/jbuild.gitlab-ci.yml": true,
		"ci/azure/azure-pipelines.yml": true, "ci/aws/buildspec.yml": true, "ci/gcp/cloudbuild.yaml": true, "ci/gcp/cloudbuild-wrap.yaml": true}
	fs.WalkDir(CI, "ci", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !tested[p] {
			t.Errorf("%s has no test", p)
		}
		return nil
	})
}
