package buildplan

import (
	"io/fs"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestBundleLayerIsRootOwnedAndPlain(t *testing.T) {
	prof := &Profile{Name: "t", Agent: "T", Runtime: RuntimeJava, InstallDir: "/opt/t/agent",
		WritableDirs: []string{"logs"}, Executables: []string{"bin/*"},
		VersionFrom: &VersionSpec{FileName: `^t-([0-9.]+)\.jar$`}}
	agent := Agent{Files: []AgentFile{
		{Path: "bin/run", Mode: 0o4777},
		{Path: "logs/old.log", Mode: 0o666},
		{Path: "t-1.2.3.jar", Mode: 0o600},
		{Path: "lib", Mode: fs.ModeSymlink | 0o777, Link: "bin"},
	}}
	entries, err := BundleLayer(prof, agent)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		typ  FileType
		mode fs.FileMode
	}{
		"/opt":                      {TypeDir, 0o755},
		"/opt/t":                    {TypeDir, 0o755},
		"/opt/t/agent":              {TypeDir, 0o755},
		"/opt/t/agent/bin":          {TypeDir, 0o755},
		"/opt/t/agent/bin/run":      {TypeFile, 0o755},
		"/opt/t/agent/lib":          {TypeSymlink, 0o777},
		"/opt/t/agent/logs":         {TypeDir, 0o755},
		"/opt/t/agent/logs/old.log": {TypeFile, 0o644},
		"/opt/t/agent/t-1.2.3.jar":  {TypeFile, 0o644},
	}
	if len(entries) != len(want) {
		t.Fatalf("got %d entries: %+v", len(entries), entries)
	}
	for _, e := range entries {
		w, ok := want[e.Path]
		if !ok || e.Type != w.typ || e.Mode != w.mode || e.UID != 0 || e.GID != 0 {
			t.Errorf("%s: %s %o %d:%d, want %s %o 0:0", e.Path, e.Type, e.Mode, e.UID, e.GID, w.typ, w.mode)
		}
	}
	if v := BundleVersion(prof, agent); v != "1.2.3" {
		t.Errorf("version %q", v)
	}
}

func TestBundleEntryEscapingIsRejected(t *testing.T) {
	prof := &Profile{Name: "t", Agent: "T", Runtime: RuntimeJava, InstallDir: "/opt/t"}
	for _, f := range []AgentFile{
		{Path: "../etc/passwd", Mode: 0o644},
		{Path: "/etc/passwd", Mode: 0o644},
		{Path: "a/link", Mode: fs.ModeSymlink, Link: "../../etc"},
		{Path: "dev", Mode: fs.ModeDevice},
	} {
		if _, err := BundleLayer(prof, Agent{Files: []AgentFile{f}}); err == nil {
			t.Errorf("%s accepted", f.Path)
		}
	}
}

// The settings layer applied over the agent layer must give exactly the
// one-layer view buildLayer computes: same paths, owners, modes, contents.
func TestSettingsOverAgentLayerIsTheFinalView(t *testing.T) {
	prof := &Profile{Name: "t", Agent: "T", Runtime: RuntimeJava, InstallDir: "/opt/t/agent",
		WritableDirs: []string{"logs", "conf"},
		Config:       &ConfigSpec{Path: "conf/t.conf", Format: FormatKeyValue, Values: map[string]string{"server_address": "${SERVER_ADDRESS}"}}}
	agent := Agent{
		Files: []AgentFile{
			{Path: "conf", Mode: fs.ModeDir | 0o755},
			{Path: "conf/t.conf", Mode: 0o644, Size: 9},
			{Path: "conf/other.xml", Mode: 0o644, Size: 3},
			{Path: "t.jar", Mode: 0o644, Size: 3},
		},
		ReadFile: func(rel string) ([]byte, error) { return []byte("a = b\n"), nil },
	}
	user := User{UID: 1001, GID: 1002}
	final, _, _, err := buildLayer(prof, agent, user, map[string]string{VarServerAddress: "10.0.0.5", VarInstallDir: prof.InstallDir}, Neutral)
	if err != nil {
		t.Fatal(err)
	}
	base, err := BundleLayer(prof, agent)
	if err != nil {
		t.Fatal(err)
	}
	settings := settingsLayer(final, base)
	merged := map[string]LayerEntry{}
	for _, e := range base {
		merged[e.Path] = e
	}
	for _, e := range settings {
		merged[e.Path] = e
	}
	if len(merged) != len(final) {
		t.Fatalf("merged view has %d paths, final %d", len(merged), len(final))
	}
	for _, e := range final {
		m := merged[e.Path]
		if m.Type != e.Type || m.Mode != e.Mode || m.UID != e.UID || m.GID != e.GID || m.From != e.From || string(m.Content) != string(e.Content) {
			t.Errorf("%s: merged %+v, final %+v", e.Path, m, e)
		}
	}
	// The jar stays out of the settings layer; the user-owned conf dir,
	// the generated config and the re-owned bundle file are in it.
	inSettings := map[string]bool{}
	for _, e := range settings {
		inSettings[e.Path] = true
	}
	for p, want := range map[string]bool{"/opt/t/agent/t.jar": false, "/opt/t/agent/conf": true, "/opt/t/agent/conf/t.conf": true, "/opt/t/agent/conf/other.xml": true, "/opt/t/agent/logs": true} {
		if inSettings[p] != want {
			t.Errorf("%s in settings layer = %v, want %v", p, inSettings[p], want)
		}
	}
}

func TestServerPortMax(t *testing.T) {
	prof := &Profile{Name: "p", Agent: "A", Runtime: RuntimePython, InstallDir: "/opt/a", ServerPortMax: 32767,
		Env: []EnvSpec{{Name: "A_SERVER_PORT", Op: EnvSet, Value: "${SERVER_PORT}"}}}
	img := Image{Reference: "x", Config: ocispec.ImageConfig{Entrypoint: []string{"python3"}}}
	if _, err := Make(img, prof, Agent{}, Options{ServerPort: 45999}); err == nil || !strings.Contains(err.Error(), "32767") {
		t.Errorf("port 45999: err = %v, want a refusal naming 32767", err)
	}
	if _, err := Make(img, prof, Agent{}, Options{ServerPort: 25999}); err != nil {
		t.Errorf("port 25999: %v", err)
	}
}
