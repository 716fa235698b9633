package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// A wrong command line exits 2 and says what was meant.
func TestWrongCommandLineSaysWhatWasMeant(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"wrpa"}, `unknown command "wrpa" for "jbuild"; did you mean "wrap"?`},
		{[]string{"agent", "pusj"}, `did you mean "push"?`},
		{[]string{"wrpa", "oci:x:1", "--agent", "a"}, `unknown command "wrpa" for "jbuild"; did you mean "wrap"?`},
		{[]string{"wrap", "oci:x:1", "--agnet", "a"}, `unknown flag: --agnet; did you mean "--agent"?`},
		{[]string{"plan", "oci:x:1", "--server-adress", "a"}, `did you mean "--server-address"?`},
		{[]string{"--agent", "a"}, "unknown flag: --agent; it is a flag of jbuild plan, jbuild wrap"},
		{[]string{"--agnet", "a"}, "unknown flag: --agnet; did you mean a flag of jbuild plan, jbuild wrap?"},
		{[]string{"wrap", "oci:x:1", "--server-address", "10.0.0.5"}, "--agent is required"},
		{[]string{"plan", "oci:x:1"}, "--agent is required"},
		{[]string{"wrap", "oci:x:1", "--agent", "a", "-o", "xml"}, `-o "xml": use text, json or yaml`},
		{[]string{"verify", "oci:x:1", "-o", "xml"}, `-o "xml"`},
		{[]string{"help", "wrpa"}, `unknown command "wrpa" for "jbuild"; did you mean "wrap"?`},
		{[]string{"help", "agent", "pusj"}, `unknown command "pusj" for "jbuild agent"; did you mean "push"?`},
	} {
		r := jbuild(t, tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("jbuild %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tt.args, " "), r.code, r.stderr, tt.want)
		}
	}
	if r := jbuild(t, "help", "agent", "push"); r.code != 0 || !strings.Contains(r.stdout, "jbuild agent push") {
		t.Errorf("jbuild help agent push: exit %d, stdout %q; want the command's help", r.code, r.stdout)
	}
	if r := jbuild(t, "plan", "oci:x:1"); strings.Contains(r.stderr, "`AGENT`") {
		t.Errorf("the required flag's message shows the raw usage: %s", r.stderr)
	}
	if r := jbuild(t, "agent"); r.code != 0 || !strings.Contains(r.stdout, "push") {
		t.Errorf("jbuild agent: exit %d, want its help: %s", r.code, r.stdout)
	}
}

var valueName = regexp.MustCompile(`^[A-Z][A-Z0-9/=_:\[\]-]*$`)

// Flag usages: backquotes only around value names (pflag takes a
// backquoted word as the value name: "--dry-run jbuild plan" came from a
// backquoted command), --agent marked required where it is.
func TestFlagUsages(t *testing.T) {
	root, _ := newRootCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			// A backquoted word is the value name pflag shows
			// (--tag TARGET): only an upper-case placeholder may be one.
			for i, part := range strings.Split(f.Usage, "`") {
				if i%2 == 1 && !valueName.MatchString(part) {
					t.Errorf("%s --%s: backquoted %q in usage %q is not a value name", c.CommandPath(), f.Name, part, f.Usage)
				}
			}
		})
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	for _, name := range []string{"wrap", "plan"} {
		c, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		f := c.Flags().Lookup("agent")
		if f.Annotations[cobra.BashCompOneRequiredFlag] == nil || !strings.Contains(c.Flags().FlagUsages(), "(required)") {
			t.Errorf("%s --agent is not marked required", name)
		}
	}
}

// -o json|yaml without --dry-run: a result document on stdout; --dry-run
// and plan say which target they would write; plan takes -t; modes are
// octal strings.
func TestWrapResultDocumentAndDryRunTarget(t *testing.T) {
	dir := sampleLayout(t)
	agent := sampleAgentDir(t)
	src := "oci:" + dir + ":app-1.0"

	r := jbuild(t, "wrap", src, "--agent", agent, "--server-address", "10.0.0.5", "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "Target:  oci:"+dir+":app-1.0-jennifer (would be written") {
		t.Errorf("--dry-run: exit %d, no Target line:\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = jbuild(t, "plan", src, "--agent", agent, "--server-address", "10.0.0.5", "-t", "oci:"+dir+":other", "-o", "json")
	var plan struct {
		Target    string
		Platforms []struct {
			Plan struct {
				Layer []struct{ Path, Mode string }
				Agent struct {
					Files []struct{ Path, Type, Mode string }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil || r.code != 0 {
		t.Fatalf("plan -t -o json: exit %d, %v:\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if plan.Target != "oci:"+dir+":other" || len(plan.Platforms) == 0 || len(plan.Platforms[0].Plan.Layer) == 0 {
		t.Fatalf("plan -t: %+v", plan)
	}
	for _, e := range plan.Platforms[0].Plan.Layer {
		if len(e.Mode) != 4 || e.Mode[0] != '0' {
			t.Errorf("layer entry %s mode %q, want an octal string like 0755", e.Path, e.Mode)
		}
	}
	for _, f := range plan.Platforms[0].Plan.Agent.Files {
		if len(f.Mode) != 4 || f.Type == "" {
			t.Errorf("agent file %s mode %q type %q", f.Path, f.Mode, f.Type)
		}
	}

	before, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if r := jbuild(t, "wrap", src, "--agent", agent, "--server-address", "10.0.0.5", "-o", "toml"); r.code != 2 {
		t.Errorf("-o toml: exit %d", r.code)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "index.json")); string(after) != string(before) {
		t.Error("a refused -o wrote the layout")
	}

	for _, format := range []string{"json", "yaml"} {
		r := jbuild(t, "wrap", src, "-t", "oci:"+dir+":doc-"+format, "--agent", agent, "--server-address", "10.0.0.5", "-o", format)
		if r.code != 0 {
			t.Fatalf("wrap -o %s: exit %d: %s", format, r.code, r.stderr)
		}
		var doc struct {
			Target, Reference, Digest string
			Platforms                 []struct{ Platform, Digest, AgentLayer, Profile string }
			LayersAdded               []string
		}
		var err error
		if format == "json" {
			err = json.Unmarshal([]byte(r.stdout), &doc)
		} else {
			err = yaml.Unmarshal([]byte(r.stdout), &doc)
		}
		if err != nil {
			t.Fatalf("-o %s: %v\n%s", format, err, r.stdout)
		}
		if doc.Target != "oci:"+dir+":doc-"+format || !strings.HasPrefix(doc.Digest, "sha256:") || doc.Reference != doc.Target+"@"+doc.Digest ||
			len(doc.Platforms) != 1 || doc.Platforms[0].Platform != "linux/amd64" || doc.Platforms[0].Profile != "jennifer-java" ||
			len(doc.LayersAdded) == 0 || doc.LayersAdded[0] != doc.Platforms[0].AgentLayer {
			t.Errorf("-o %s document %+v", format, doc)
		}
	}
}

// BuildKit runs a wrap only with --builder: a stray BUILDKIT_HOST (CI
// images set it for buildctl) neither moves nor breaks a local wrap.
func TestStrayBuildkitHost(t *testing.T) {
	dir := sampleLayout(t)
	r := jbuildEnv(t, []string{"BUILDKIT_HOST=tcp://127.0.0.1:1"}, "wrap", "oci:"+dir+":app-1.0", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5", "-q")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "oci:"+dir+":app-1.0-jennifer@sha256:") {
		t.Errorf("wrap with BUILDKIT_HOST set: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// verify -q prints only what failed and one summary line per image.
func TestVerifyQuiet(t *testing.T) {
	dir := sampleLayout(t)
	if r := jbuild(t, "wrap", "oci:"+dir+":app-1.0", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5", "-q"); r.code != 0 {
		t.Fatalf("wrap: %s", r.stderr)
	}
	full := jbuild(t, "verify", "oci:"+dir+":app-1.0-jennifer")
	q := jbuild(t, "verify", "oci:"+dir+":app-1.0-jennifer", "-q")
	if full.code != 0 || q.code != 0 {
		t.Fatalf("verify: exit %d / %d: %s%s", full.code, q.code, full.stderr, q.stderr)
	}
	lines := strings.Split(strings.TrimSpace(q.stdout), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], " passed, 0 failed, ") || strings.Count(full.stdout, "\n") < 4 {
		t.Errorf("verify -q:\n%s\nwant one summary line (full report:\n%s)", q.stdout, full.stdout)
	}
	// A failing image: its failures and the summary.
	r := jbuild(t, "verify", "oci:"+dir+":app-1.0", "-q")
	if r.code != 1 || !strings.Contains(r.stdout, ": FAIL ") || !strings.Contains(r.stdout, " failed, ") || strings.Contains(r.stdout, "[ok  ]") {
		t.Errorf("verify -q of an unwrapped image: exit %d:\n%s", r.code, r.stdout)
	}
}

// Progress in a pipe (CI logs): plain lines, per step; the registry push
// keeps mounted blobs apart from uploaded ones; nothing with -q.
func TestPlainProgress(t *testing.T) {
	reg := testenv.Registry(t)
	testenv.PushRandomImage(t, reg+"/progress/app:1", 2, 64<<10, func(cf *v1.ConfigFile) {
		cf.Config.Env = []string{"PATH=/usr/bin:/bin", "JAVA_HOME=" + testenv.JavaLikeHome}
		cf.Config.Entrypoint = []string{"java", "-jar", "/app/app.jar"}
		cf.Config.User = "1000:1000"
	})
	// Another repository of the same registry: the base layers are mounted.
	r := jbuild(t, "wrap", reg+"/progress/app:1", "-t", reg+"/other/app:1-jennifer", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5")
	if r.code != 0 {
		t.Fatalf("wrap: exit %d: %s", r.code, r.stderr)
	}
	t.Logf("progress:\n%s", r.stderr)
	for _, want := range []string{"pushing " + reg + "/other/app:1-jennifer", "wrap " + reg + "/progress/app:1 -> ", "mounted sha256:", "from another repository of the registry, not uploaded)", "uploaded sha256:", "bytes uploaded", "tagged " + reg + "/other/app:1-jennifer", "DONE"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "\r") || strings.Contains(r.stderr, "\x1b[") {
		t.Errorf("terminal control characters in a pipe:\n%q", r.stderr)
	}
	q := jbuild(t, "wrap", reg+"/progress/app:1", "-t", reg+"/other/app:2-jennifer", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5", "-q")
	if q.code != 0 || q.stderr != "" {
		t.Errorf("-q: exit %d, stderr %q", q.code, q.stderr)
	}
}

// An agent that is not there is named once ("reading agent X: stat X"),
// not "reading agent X: reading agent X: ...".
func TestMissingAgentNamedOnce(t *testing.T) {
	dir := sampleLayout(t)
	missing := filepath.Join(t.TempDir(), "agent.java")
	r := jbuild(t, "wrap", "oci:"+dir+":app-1.0", "--agent", missing, "--server-address", "10.0.0.5")
	if r.code != 1 || strings.Count(r.stderr, "reading agent") != 1 || !strings.Contains(r.stderr, "jbuild: reading agent "+missing+": ") {
		t.Errorf("exit %d, stderr %q: want the agent named once", r.code, r.stderr)
	}
}
