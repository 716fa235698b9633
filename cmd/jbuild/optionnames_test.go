package main

import (
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/testing/sampleimage"
)

// Every option buildplan names is a flag of wrap and plan.
func TestFlagNamesAreFlags(t *testing.T) {
	root, _ := newRootCmd()
	for _, sub := range []string{"wrap", "plan"} {
		cmd, _, err := root.Find([]string{sub})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range append(buildplan.AllOptions, buildplan.OptParam("entry")) {
			name := flagNames{}.Name(o)
			flag, ok := strings.CutPrefix(strings.Fields(name)[0], "--")
			if !ok || cmd.Flags().Lookup(flag) == nil {
				t.Errorf("%s: option %q is named %q, not a flag of the command", sub, o, name)
			}
			if give := (flagNames{}).Give(o, "X"); !strings.HasPrefix(give, "pass "+name) {
				t.Errorf("%s: option %q: hint %q does not pass %s", sub, o, give, name)
			}
		}
	}
}

// What only buildplan finds out (the agent bundle and the image read) is
// said in flags too, never in buildplan's neutral words or a build arg's.
func TestPlanErrorsNameFlags(t *testing.T) {
	src := "oci:" + sampleLayout(t) + ":app-1.0"
	// An image without any runtime: no layer, a shell script to start.
	noRuntime := filepath.Join(t.TempDir(), "layout")
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: "amd64",
		Config: v1.Config{Entrypoint: []string{"/opt/app/start.sh"}}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.Write(noRuntime, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{sampleimage.RefNameAnnotation: "start"})); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		// The sample bundle's config leaves server_address unset.
		{"no server address", []string{src}, 1, "pass --server-address or set it in the agent bundle's conf/jennifer.conf"},
		// The bundle picks the Java profile (markers), whatever --runtime says.
		{"runtime of another profile", []string{src, "--server-address", "10.0.0.5", "--runtime", "python"}, 2, "--runtime python does not match profile jennifer-java"},
		// jennifer-nodejs declares entry, so the flag parser lets it pass.
		{"param of another profile", []string{src, "--server-address", "10.0.0.5", "--param", "entry=/a.js"}, 2, "--param entry: profile jennifer-java has no such parameter"},
		// A refusal's hint.
		{"no runtime", []string{"oci:" + noRuntime + ":start", "--server-address", "10.0.0.5"}, 1, "cannot be monitored: its command is a statically linked binary (Go or similar) with no language runtime in the image, so there is no agent to inject; for Go services instrument the code at build time with JENNIFER's Go agent API instead; if the image does run a JVM, .NET, Node.js, Python or PHP, pass --runtime\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := jbuild(t, append([]string{"plan", "--agent", sampleAgentDir(t)}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tt.code, tt.want)
			}
			for _, other := range []string{"set option", "build-arg"} {
				if strings.Contains(r.stderr, other) {
					t.Errorf("stderr %q says %q: not the CLI's words", r.stderr, other)
				}
			}
		})
	}
}
