package runcheck

import (
	"slices"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/buildplan"
)

func TestServerOverrideJavaKeepsOtherLines(t *testing.T) {
	conf := "# comment server_address = x\nserver_address = 10.0.0.1\nserver_port = 5000\ndomain_id = 1000\nlog_dir = /opt/jennifer/agent.java/logs\n"
	labels := map[string]string{buildplan.LabelProfile: "jennifer-java", buildplan.LabelConfig: "/opt/jennifer/agent.java/conf/jennifer.conf"}
	ov, env, err := ServerOverride(labels, []byte(conf), "127.0.0.1", 41234)
	if err != nil {
		t.Fatal(err)
	}
	want := "# comment server_address = x\nserver_address = 127.0.0.1\nserver_port = 41234\ndomain_id = 1000\nlog_dir = /opt/jennifer/agent.java/logs\n"
	if ov.Path != labels[buildplan.LabelConfig] || string(ov.Content) != want {
		t.Errorf("override %s:\n%s\nwant:\n%s", ov.Path, ov.Content, want)
	}
	if len(env) != 0 {
		t.Errorf("env = %q, want none for the Java profile", env)
	}
}

func TestServerOverridePythonINI(t *testing.T) {
	conf := "[OTHER]\nserver_port = 1\n\n[JENNIFER]\nServer_Port: 5000\ndomain_id = 1000\n\n[LAST]\nx = y\n"
	labels := map[string]string{buildplan.LabelProfile: "jennifer-python", buildplan.LabelConfig: "/opt/jennifer/agent.python/conf/jennifer.ini"}
	ov, _, err := ServerOverride(labels, []byte(conf), "127.0.0.1", 40000)
	if err != nil {
		t.Fatal(err)
	}
	want := "[OTHER]\nserver_port = 1\n\n[JENNIFER]\nserver_port = 40000\ndomain_id = 1000\nserver_address = 127.0.0.1\n\n[LAST]\nx = y\n"
	if string(ov.Content) != want {
		t.Errorf("got:\n%s\nwant:\n%s", ov.Content, want)
	}
	// No section at all: it is added.
	ov, _, _ = ServerOverride(labels, nil, "127.0.0.1", 40000)
	if want := "[JENNIFER]\nserver_address = 127.0.0.1\nserver_port = 40000\n"; string(ov.Content) != want {
		t.Errorf("empty file: got %q, want %q", ov.Content, want)
	}
}

func TestServerOverrideEnvProfiles(t *testing.T) {
	for _, name := range []string{"jennifer-nodejs", "jennifer-dotnet"} {
		ov, env, err := ServerOverride(map[string]string{buildplan.LabelProfile: name}, nil, "127.0.0.1", 40001)
		if err != nil {
			t.Fatal(err)
		}
		if ov != nil {
			t.Errorf("%s: config override %v, want none", name, ov)
		}
		slices.Sort(env)
		if want := []string{"ARIES_SERVER_ADDRESS=127.0.0.1", "ARIES_SERVER_PORT=40001"}; !slices.Equal(env, want) {
			t.Errorf("%s: env = %q, want %q", name, env, want)
		}
	}
}

func TestServerOverrideErrors(t *testing.T) {
	if _, _, err := ServerOverride(map[string]string{}, nil, "127.0.0.1", 1); err == nil || !strings.Contains(err.Error(), "not made by jbuild") {
		t.Errorf("no labels: err = %v", err)
	}
	if _, _, err := ServerOverride(map[string]string{buildplan.LabelProfile: "jennifer-java"}, nil, "127.0.0.1", 1); err == nil || !strings.Contains(err.Error(), buildplan.LabelConfig) {
		t.Errorf("no config label: err = %v", err)
	}
}

func TestTmpfsOptions(t *testing.T) {
	for user, want := range map[string]string{
		"":          "mode=0775,uid=0,gid=0",
		"1000":      "mode=0775,uid=1000,gid=1000",
		"1000:2000": "mode=0775,uid=1000,gid=2000",
		"app":       "mode=1777",
		"app:app":   "mode=1777",
	} {
		if got := strings.Join(tmpfsOptions(user, nil), ","); got != want {
			t.Errorf("tmpfsOptions(%q) = %s, want %s", user, got, want)
		}
	}
	// With an fsGroup, as kubelet makes an emptyDir, whoever the user is.
	g := 3000
	for _, user := range []string{"", "1000:1000", "app"} {
		if got, want := strings.Join(tmpfsOptions(user, &g), ","), "mode=2777,uid=0,gid=3000"; got != want {
			t.Errorf("tmpfsOptions(%q, fsGroup 3000) = %s, want %s", user, got, want)
		}
	}
}

func TestExtraGroups(t *testing.T) {
	g := 3000
	got := extraGroups(Options{FSGroup: &g, SupplementalGroups: []int{4000, 3000}})
	if !slices.Equal(got, []int{3000, 4000}) {
		t.Errorf("extraGroups = %v, want [3000 4000]", got)
	}
	if got := extraGroups(Options{}); len(got) != 0 {
		t.Errorf("extraGroups of no options = %v", got)
	}
}

// The listener's port must fit in an int16 (see Listen).
func TestListenPortFitsInt16(t *testing.T) {
	for range 20 {
		ln, err := Listen()
		if err != nil {
			t.Fatal(err)
		}
		if p := Port(ln); p < minPort || p > 32767 {
			t.Errorf("port %d outside %d-32767", p, minPort)
		}
		ln.Close()
	}
}

// A profile's runCheck env and config point the agent at the receiver in
// place of the values derived from ${SERVER_ADDRESS} and ${SERVER_PORT}.
func TestRunCheckOverride(t *testing.T) {
	prof, err := buildplan.ParseProfile([]byte(`
name: otel
agent: OpenTelemetry
runtime: java
installDir: /opt/otel
params: {endpoint: "http://collector:4318"}
env:
  - {name: OTEL_EXPORTER_OTLP_ENDPOINT, op: default, value: "${endpoint}"}
runCheck:
  kind: otlp-http
  env:
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://${SERVER_ADDRESS}:${SERVER_PORT}"
    OTEL_METRIC_EXPORT_INTERVAL: "1000"
`), "otel.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ov, env, err := ProfileOverride(prof, "", nil, "127.0.0.1", 21001)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:21001", "OTEL_METRIC_EXPORT_INTERVAL=1000"}; ov != nil || !slices.Equal(env, want) {
		t.Errorf("override %v, env %q, want %q", ov, env, want)
	}

	// Without runCheck nothing takes the receiver: said, not a silent run.
	prof.RunCheck = nil
	if _, _, err := ProfileOverride(prof, "", nil, "127.0.0.1", 21001); err == nil || !strings.Contains(err.Error(), "add runCheck.env") {
		t.Errorf("error %v, want one saying to add runCheck.env", err)
	}

	// runCheck.config rewrites the config file's keys.
	prof, err = buildplan.ParseProfile([]byte(`
name: cfg
agent: X
runtime: java
installDir: /opt/x
config: {path: x.conf, format: keyvalue}
runCheck:
  config: {collector: "${SERVER_ADDRESS}:${SERVER_PORT}"}
`), "cfg.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ov, _, err = ProfileOverride(prof, "/opt/x/x.conf", []byte("collector = far:1\nkeep = 1\n"), "127.0.0.1", 21002)
	if err != nil {
		t.Fatal(err)
	}
	if want := "collector = 127.0.0.1:21002\nkeep = 1\n"; ov == nil || string(ov.Content) != want {
		t.Errorf("config override %v, want %q", ov, want)
	}
}
