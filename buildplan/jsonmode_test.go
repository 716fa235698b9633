package buildplan

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"
)

// Modes are octal strings in a plan's JSON; layer entries read back to the
// same value; an AgentFile alone (the agent image index label) keeps its
// encoding.
func TestModesAsOctalStrings(t *testing.T) {
	p := Plan{
		Agent: Agent{Files: []AgentFile{{Path: "bin/", Mode: fs.ModeDir | 0o755}, {Path: "l", Mode: fs.ModeSymlink | 0o777, Link: "bin"}, {Path: "x.so", Mode: 0o755, Size: 3}}},
		Layer: []LayerEntry{{Path: "/opt/a", Type: TypeDir, Mode: 0o755}, {Path: "/opt/a/x", Type: TypeFile, Mode: 0o644 | fs.ModeSetgid}},
	}
	pb, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"mode":"0755"`, `"mode":"2644"`, `"path":"bin/","type":"dir","mode":"0755"`, `"path":"l","type":"symlink","mode":"0777"`, `"path":"x.so","type":"file","mode":"0755"`} {
		if !strings.Contains(string(pb), want) {
			t.Errorf("plan JSON %s lacks %s", pb, want)
		}
	}
	if strings.Contains(string(pb), "2147") {
		t.Errorf("a raw fs.FileMode number in %s", pb)
	}
	var p2 struct{ Layer []LayerEntry }
	if err := json.Unmarshal(pb, &p2); err != nil || len(p2.Layer) != len(p.Layer) {
		t.Fatalf("layer read back: %v", err)
	}
	for i := range p.Layer {
		if p2.Layer[i].Mode != p.Layer[i].Mode || p2.Layer[i].Path != p.Layer[i].Path {
			t.Errorf("layer entry %d read back as %+v, want %+v", i, p2.Layer[i], p.Layer[i])
		}
	}
	var old LayerEntry
	if err := json.Unmarshal([]byte(`{"path":"/x","mode":420}`), &old); err != nil || old.Mode != 0o644 {
		t.Errorf("numeric mode read as %v, %v", old.Mode, err)
	}
	if err := json.Unmarshal([]byte(`{"mode":"0999"}`), &old); err == nil {
		t.Error("mode 0999 read without error")
	}
	fb, _ := json.Marshal(AgentFile{Path: "bin/", Mode: fs.ModeDir | 0o755})
	if string(fb) != `{"path":"bin/","mode":2147484141}` {
		t.Errorf("AgentFile encoding changed (agent images' index label): %s", fb)
	}
}
