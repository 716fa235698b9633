package templates

import (
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/buildplan"
)

func TestProfilesParse(t *testing.T) {
	ps, err := Profiles()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]buildplan.Runtime{
		"jennifer-dotnet": buildplan.RuntimeDotnet, "jennifer-java": buildplan.RuntimeJava,
		"jennifer-nodejs": buildplan.RuntimeNodejs, "jennifer-php": buildplan.RuntimePHP,
		"jennifer-python":    buildplan.RuntimePython,
		"opentelemetry-java": buildplan.RuntimeJava, "opentelemetry-nodejs": buildplan.RuntimeNodejs,
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d profiles, want %d", len(ps), len(want))
	}
	for _, p := range ps {
		if want[p.Name] != p.Runtime {
			t.Errorf("%s: runtime %q", p.Name, p.Runtime)
		}
		if wantAgent := map[bool]string{true: "OpenTelemetry", false: "JENNIFER"}[strings.HasPrefix(p.Name, "opentelemetry-")]; p.Agent != wantAgent || p.Description == "" {
			t.Errorf("%s: agent %q, description %q", p.Name, p.Agent, p.Description)
		}
	}
	// Callers own their copies.
	ps[0].Name = "changed"
	again, _ := Profiles()
	if again[0].Name == "changed" {
		t.Error("Profiles returns shared values")
	}
}

func TestLookup(t *testing.T) {
	p, err := Lookup("jennifer-java")
	if err != nil || p.InstallDir != "/opt/jennifer/agent.java" {
		t.Fatalf("%v %v", p, err)
	}
	_, err = Lookup("jennifer-cobol")
	if err == nil || !strings.Contains(err.Error(), "jennifer-dotnet, jennifer-java, jennifer-nodejs, jennifer-php, jennifer-python") {
		t.Fatalf("error should list the names: %v", err)
	}
}

func TestForRuntime(t *testing.T) {
	p, err := ForRuntime(buildplan.RuntimeDotnet)
	if err != nil || p.Name != "jennifer-dotnet" {
		t.Fatalf("%v %v", p, err)
	}
	if _, err := ForRuntime(buildplan.RuntimeNative); err == nil {
		t.Fatal("native must have no profile")
	}
}

func TestDotnetProfileMatchesTheSeed(t *testing.T) {
	p, _ := Lookup("jennifer-dotnet")
	env := map[string]string{}
	for _, e := range p.Env {
		env[e.Name] = e.Value
	}
	for k, v := range map[string]string{
		"CORECLR_ENABLE_PROFILING": "1",
		"CORECLR_PROFILER":         "{6C7CAF0F-D0E5-4274-A71B-6551761BBDC8}",
		"CORECLR_PROFILER_PATH":    "${INSTALL_DIR}/bin/libAriesProfiler.so",
		"ARIES_SERVER_ADDRESS":     "${SERVER_ADDRESS}",
	} {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if len(p.Libc) != 1 || p.Libc[0] != buildplan.LibcGlibc {
		t.Errorf("libc %v, want glibc only", p.Libc)
	}
}

func files(paths ...string) []buildplan.AgentFile {
	var out []buildplan.AgentFile
	for _, p := range paths {
		out = append(out, buildplan.AgentFile{Path: p, Mode: 0o644})
	}
	return out
}

func TestMatchBundle(t *testing.T) {
	tests := []struct {
		name  string
		files []buildplan.AgentFile
		want  string
	}{
		{"java", files("jennifer.jar", "conf/jennifer.conf", "logs"), "jennifer-java"},
		{"dotnet", files("bin/libAriesProfiler.so"), "jennifer-dotnet"},
		{"python wheel", files("jennifer/__init__.py", "jennifer/admin/sitecustomize.py", "jennifer_python-5.6.5.9.dist-info/METADATA"), "jennifer-python"},
		{"php", files("jennifer.conf", "lib/jennifer5-php-8.2.x-NTS.so"), "jennifer-php"},
		{"unknown", files("agent.js"), ""},
		{"two agents with one marker each is ambiguous", files("jennifer.jar", "bin/libAriesProfiler.so"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := MatchBundle(tt.files)
			got := ""
			if ok {
				got = p.Name
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExampleProfilesParseButAreNotEmbedded(t *testing.T) {
	entries, err := os.ReadDir("profiles/examples")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile("profiles/examples/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		p, err := buildplan.ParseProfile(data, e.Name())
		if err != nil {
			t.Fatal(err)
		}
		// An example may carry a built-in profile's name (the
		// OpenTelemetry Java example is the file form of the built-in
		// one): it must then still be a file of its own, not the
		// embedded one.
		if b, err := Lookup(p.Name); err == nil && b.Source == "templates/profiles/examples/"+e.Name() {
			t.Errorf("example %s is embedded as a default profile", p.Name)
		}
	}
	if _, err := fs.Stat(defaultProfiles, "profiles/examples"); err == nil {
		t.Error("examples/ is embedded")
	}
}

// Profiles hands out copies of the profiles parsed once: each equals a
// fresh parse, and changing one does not change the next.
func TestProfilesAreFreshCopies(t *testing.T) {
	fresh, err := parseEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	a, err := Profiles()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, fresh) {
		t.Fatal("a copy differs from a fresh parse")
	}
	a[0].Name = "changed"
	a[0].Env = nil
	b, _ := Profiles()
	if !reflect.DeepEqual(b, fresh) {
		t.Error("changing a copy changed the next one")
	}
}
