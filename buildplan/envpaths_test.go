package buildplan

import (
	"errors"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// An env that points inside the install dir at a file the bundle lacks
// (Node's --require entry) is refused: the container would not start. A
// --param that names the install dir is expanded, not written literally.
func TestEnvPathsMustExist(t *testing.T) {
	prof, err := ParseProfile([]byte(minimalProfile+`
params: {entry: "${INSTALL_DIR}/index.js"}
env:
  - name: NODE_OPTIONS
    op: append
    separator: " "
    value: "--require ${entry}"
  - name: JAVA_TOOL_OPTIONS
    op: append
    separator: " "
    value: "-javaagent:${INSTALL_DIR}/a.jar=conf=${INSTALL_DIR}/conf"
`), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	img := Image{Reference: "app:1", Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config: ocispec.ImageConfig{Entrypoint: []string{"java"}, User: "0:0"}}
	bundle := func(paths ...string) Agent {
		a := Agent{Source: "agent.zip"}
		for _, p := range paths {
			a.Files = append(a.Files, AgentFile{Path: p, Size: 1})
		}
		return a
	}
	env := func(p *Plan, name string) string {
		for _, e := range p.Env {
			if e.Name == name {
				return e.After
			}
		}
		return ""
	}
	if _, err := Make(img, prof, bundle("a.jar", "index.js", "conf/x.conf"), Options{}); err != nil {
		t.Fatalf("a bundle with every file: %v", err)
	}
	for _, tt := range []struct {
		name  string
		agent Agent
		opts  Options
		want  string
	}{
		{"no entry module", bundle("a.jar", "conf/x.conf"), Options{}, "NODE_OPTIONS would point at /opt/test/index.js"},
		{"entry not in the bundle", bundle("a.jar", "index.js", "conf/x.conf"), Options{Params: map[string]string{"entry": "${INSTALL_DIR}/start.js"}}, "/opt/test/start.js"},
		{"no jar", bundle("index.js", "conf/x.conf"), Options{}, "JAVA_TOOL_OPTIONS would point at /opt/test/a.jar"},
		{"no conf folder", bundle("a.jar", "index.js"), Options{}, "/opt/test/conf,"},
	} {
		_, err := Make(img, prof, tt.agent, tt.opts)
		var r *RefusalError
		if !errors.As(err, &r) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want a refusal naming %q", tt.name, err, tt.want)
		}
	}
	p, err := Make(img, prof, bundle("a.jar", "lib/start.js", "conf/x.conf"), Options{Params: map[string]string{"entry": "${INSTALL_DIR}/lib/start.js"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := env(p, "NODE_OPTIONS"); got != "--require /opt/test/lib/start.js" {
		t.Errorf("NODE_OPTIONS = %q: the param's ${INSTALL_DIR} must be expanded", got)
	}
	// Outside the install dir: the image's own file, not checked.
	if _, err := Make(img, prof, bundle("a.jar", "conf/x.conf"), Options{Params: map[string]string{"entry": "/app/apm.js"}}); err != nil {
		t.Errorf("an entry outside the install dir: %v", err)
	}
	var oe *OptionError
	if _, err := Make(img, prof, bundle("a.jar", "index.js", "conf/x.conf"), Options{Params: map[string]string{"entry": "${HOME}/x.js"}}); !errors.As(err, &oe) {
		t.Errorf("an unknown variable in a param: %v, want an OptionError", err)
	}
}

// Markers may be patterns: an agent whose file carries its version
// ("agent-2.33.1.jar") matches "agent*.jar"; a malformed pattern is a
// profile error.
func TestMarkerPatterns(t *testing.T) {
	for _, c := range []struct {
		marker, path string
		want         bool
	}{
		{"jennifer.jar", "jennifer.jar", true},
		{"lib", "lib/", true},
		{"opentelemetry-javaagent*.jar", "opentelemetry-javaagent-2.33.1.jar", true},
		{"opentelemetry-javaagent*.jar", "lib/opentelemetry-javaagent.jar", false},
		{"jennifer.jar", "jennifer.jar.bak", false},
	} {
		if got := MarkerMatches(c.marker, c.path); got != c.want {
			t.Errorf("MarkerMatches(%q, %q) = %v, want %v", c.marker, c.path, got, c.want)
		}
	}
	prof, err := ParseProfile([]byte(minimalProfile+"bundleMarkers: [\"a-*.jar\"]\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckMarkers(prof, Agent{Source: "x", Files: []AgentFile{{Path: "a-1.2.jar", Mode: 0o644}}}); err != nil {
		t.Errorf("a file matching the pattern: %v", err)
	}
	if err := CheckMarkers(prof, Agent{Source: "x", Files: []AgentFile{{Path: "b.jar", Mode: 0o644}}}); err == nil {
		t.Error("no file matching the pattern passes")
	}
	if _, err := ParseProfile([]byte(minimalProfile+"bundleMarkers: [\"a[.jar\"]\n"), "p.yaml"); err == nil || !strings.Contains(err.Error(), "not a valid pattern") {
		t.Errorf("a malformed pattern: %v", err)
	}
}
