package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	yaml "go.yaml.in/yaml/v3"
)

func TestWrapFilesUsage(t *testing.T) {
	f := filepath.Join(t.TempDir(), "a.yaml")
	os.WriteFile(f, []byte("kind: Pod\n"), 0o644)
	for _, args := range [][]string{
		{"wrap", "-f", f, "some/image:1"},
		{"wrap", "some/image:1", "--kustomize"},
		{"wrap", "-f", f, "-t", "x:1"},
		{"wrap", "-f", f, "--builder", "tcp://x:1"},
		{"wrap", "-f", filepath.Join(t.TempDir(), "missing.yaml"), "--agent", "a"},
	} {
		if r := jbuild(t, args...); r.code != 2 {
			t.Errorf("jbuild %v: exit %d, stderr %q; want 2", args, r.code, r.stderr)
		}
	}
	// A manifest without workloads is an error, not silence.
	r := jbuild(t, "wrap", "-f", f, "--agent", sampleAgentDir(t))
	if r.code != 1 || !strings.Contains(r.stderr, "no container images") {
		t.Errorf("no images: exit %d, stderr %q", r.code, r.stderr)
	}
}

const wrapFilesManifest = `# shop web front end
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # keep me
spec:
  template:
    spec:
      initContainers:
      - name: migrate
        image: REG/mf/web:1.2 # same image
      containers:
      - name: web
        image: "REG/mf/web:1.2"
        env: [{name: A, value: b}]
      - name: sidecar
        image: REG/mf/sidecar:1
---
kind: CronJob
apiVersion: batch/v1
metadata: {name: report}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - image: REG/mf/web:1.2@WEBDIGEST
              name: report
`

func TestWrapFilesRegistry(t *testing.T) {
	reg := testenv.Registry(t)
	web := testenv.PushJavaLike(t, reg+"/mf/web:1.2")
	testenv.PushRandomImage(t, reg+"/mf/sidecar:1", 1, 64, nil) // no runtime: cannot be monitored
	dir := t.TempDir()
	orig := strings.NewReplacer("REG", reg, "WEBDIGEST", web.String()).Replace(wrapFilesManifest)
	path := filepath.Join(dir, "app.yaml")
	if err := os.WriteFile(path, []byte(orig), 0o640); err != nil {
		t.Fatal(err)
	}
	agent := sampleAgentDir(t)

	// --dry-run changes nothing.
	r := jbuild(t, "wrap", "-f", path, "--agent", agent, "--server-address", "10.0.0.5", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, reg+"/mf/web:1.2-jennifer@sha256:") || !strings.Contains(r.stderr, "sidecar:1") {
		t.Fatalf("dry run: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if got, _ := os.ReadFile(path); string(got) != orig {
		t.Fatal("--dry-run changed the file")
	}

	r = jbuild(t, "wrap", "-f", path, "--agent", agent, "--server-address", "10.0.0.5")
	if r.code != 0 {
		t.Fatalf("wrap -f: exit %d\nstderr %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "left alone") || !strings.Contains(r.stderr, "sidecar:1") {
		t.Errorf("no note for the image that cannot be monitored:\n%s", r.stderr)
	}
	wrapped := testenv.Image(t, reg+"/mf/web:1.2-jennifer")
	d, err := wrapped.Digest()
	if err != nil {
		t.Fatal(err)
	}
	pinned := reg + "/mf/web:1.2-jennifer@" + d.String()
	if !strings.Contains(r.stdout, pinned) {
		t.Errorf("stdout %q does not name %s", r.stdout, pinned)
	}
	got, _ := os.ReadFile(path)
	want := strings.NewReplacer(
		reg+"/mf/web:1.2@"+web.String(), pinned,
		reg+"/mf/web:1.2 ", pinned+" ",
		reg+"/mf/web:1.2\"", pinned+"\"",
	).Replace(orig)
	if string(got) != want {
		t.Errorf("rewritten manifest:\n%s\nwant:\n%s", got, want)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("file mode %v, want 0640 kept", st.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}

	// Again: the pinned jbuild outputs are upgraded in place with the same
	// agent, which changes nothing.
	r = jbuild(t, "wrap", "-f", path, "--agent", agent, "--server-address", "10.0.0.5")
	if again, _ := os.ReadFile(path); r.code != 0 || string(again) != want {
		t.Errorf("second run: exit %d, stderr %s\nfile:\n%s", r.code, r.stderr, again)
	}

	// --kustomize: the patch, files untouched.
	os.WriteFile(path, []byte(orig), 0o640)
	r = jbuild(t, "wrap", "-f", path, "--kustomize", "--agent", agent, "--server-address", "10.0.0.5", "-q")
	if r.code != 0 {
		t.Fatalf("--kustomize: exit %d: %s", r.code, r.stderr)
	}
	var k struct {
		Images []map[string]string `yaml:"images"`
	}
	if err := yaml.Unmarshal([]byte(r.stdout), &k); err != nil || len(k.Images) != 1 {
		t.Fatalf("kustomize patch %q: %v", r.stdout, err)
	}
	if e := k.Images[0]; e["name"] != reg+"/mf/web" || e["newTag"] != "1.2-jennifer" || e["digest"] != d.String() {
		t.Errorf("kustomize entry %v", e)
	}
	if got, _ := os.ReadFile(path); string(got) != orig {
		t.Error("--kustomize changed the file")
	}
}

// One image that fails to wrap (not in the registry) and no file changes,
// not even those whose images wrapped fine.
func TestWrapFilesFailureLeavesFilesUntouched(t *testing.T) {
	reg := testenv.Registry(t)
	testenv.PushJavaLike(t, reg+"/mf2/web:1")
	dir := t.TempDir()
	a := "kind: Pod\nspec:\n  containers:\n  - {name: a, image: " + reg + "/mf2/web:1}\n"
	b := "kind: Pod\nspec:\n  containers:\n  - {name: b, image: " + reg + "/mf2/missing:1}\n"
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte(a), 0o644)
	os.WriteFile(filepath.Join(dir, "b.yml"), []byte(b), 0o644)
	r := jbuild(t, "wrap", "-f", dir, "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5")
	if r.code != 1 || !strings.Contains(r.stderr, "no manifest was changed") {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
	for name, want := range map[string]string{"a.yaml": a, "b.yml": b} {
		if got, _ := os.ReadFile(filepath.Join(dir, name)); string(got) != want {
			t.Errorf("%s changed:\n%s", name, got)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("files left behind: %v", ents)
	}
}

// Manifests on stdin come back on stdout.
func TestWrapFilesStdin(t *testing.T) {
	reg := testenv.Registry(t)
	testenv.PushJavaLike(t, reg+"/mf3/web:1")
	in := "# c\nkind: Pod\nspec:\n  containers:\n  - {name: a, image: " + reg + "/mf3/web:1}\n"
	cmd := jbuildCmd(t, "wrap", "-f", "-", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5", "-q")
	cmd.Stdin = strings.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "# c\nkind: Pod\n") || !strings.Contains(string(out), reg+"/mf3/web:1-jennifer@sha256:") {
		t.Errorf("stdout:\n%s", out)
	}
}

func jbuildCmd(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(jbuildBin, args...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir())
	return cmd
}

// The tag moved on: REPO:1@OLD and REPO:1 are two images that would both
// become REPO:1-jennifer. Refused before anything is written.
func TestWrapFilesTwoImagesOneTarget(t *testing.T) {
	reg := testenv.Registry(t)
	old := testenv.PushJavaLike(t, reg+"/mf4/web:1")
	testenv.PushRandomImage(t, reg+"/mf4/web:1", 1, 64, nil)
	path := filepath.Join(t.TempDir(), "a.yaml")
	doc := "kind: Pod\nspec:\n  containers:\n  - {name: a, image: " + reg + "/mf4/web:1@" + old.String() + "}\n  - {name: b, image: " + reg + "/mf4/web:1}\n"
	os.WriteFile(path, []byte(doc), 0o644)
	r := jbuild(t, "wrap", "-f", path, "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5")
	if r.code != 1 || !strings.Contains(r.stderr, "different images") {
		t.Errorf("exit %d, stderr %s", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(path); string(got) != doc {
		t.Errorf("file changed:\n%s", got)
	}
}
