package buildplan

import (
	"io/fs"
	"testing"
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
