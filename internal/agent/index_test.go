package agent

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// The index of a bundle gives back the same bundle: files, digest, and the
// contents of the files it carries text for (read without the layer); other
// files are read through the fallback.
func TestIndexRoundTrip(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, sampleAgent())
	b := bundleOf(t, filepath.Join(dir, "agent.java"), Options{})
	label, err := IndexLabel(b, []string{"conf/jennifer.conf", "no/such.file", "lib"})
	if err != nil {
		t.Fatal(err)
	}
	var fallback []string
	open := func(rel string) (io.ReadCloser, error) {
		fallback = append(fallback, rel)
		return b.Open(rel)
	}
	got, err := BundleFromIndex(label, b.Digest, "agent image reg/agent:1", "agent.java", "1.2.3", open)
	if err != nil {
		t.Fatal(err)
	}
	if describe(t, got) != describe(t, b) {
		t.Errorf("bundle from the index:\n%s\nwant:\n%s", describe(t, got), describe(t, b))
	}
	if got.Digest != b.Digest || got.Version != "1.2.3" || got.Name != "agent.java" {
		t.Errorf("digest %s version %q name %q; want %s 1.2.3 agent.java", got.Digest, got.Version, got.Name, b.Digest)
	}
	// describe read every regular file once: all but the config file
	// through the fallback.
	if strings.Contains(strings.Join(fallback, " "), "jennifer.conf") || len(fallback) != 3 {
		t.Errorf("read through the fallback: %v; want the three files the index has no text for", fallback)
	}
	conf, err := got.ReadFile("conf/jennifer.conf")
	if err != nil || string(conf) != "server_port = 5000\ndomain_id = 1000\n" {
		t.Errorf("ReadFile(conf/jennifer.conf) = %q, %v", conf, err)
	}
}

// An index label is checked like the files it stands for: a tampered label
// is refused naming the entry.
func TestIndexRefusesUnsafeEntries(t *testing.T) {
	const digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	noOpen := func(string) (io.ReadCloser, error) { return nil, errors.New("no layer") }
	label := func(files []buildplan.AgentFile, text map[string]string) string {
		b, err := json.Marshal(index{Files: files, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	jar := buildplan.AgentFile{Path: "jennifer.jar", Mode: 0o644, Size: 10}
	for _, tc := range []struct {
		name, label, digest, want string
	}{
		{"escape", label([]buildplan.AgentFile{{Path: "../etc/passwd", Mode: 0o644, Size: 1}}, nil), digest, `".." component`},
		{"absolute", label([]buildplan.AgentFile{{Path: "/etc/passwd", Mode: 0o644, Size: 1}}, nil), digest, "absolute path"},
		{"setuid", label([]buildplan.AgentFile{{Path: "bin/x", Mode: 0o755 | fs.ModeSetuid, Size: 1}}, nil), digest, "setuid"},
		{"device", label([]buildplan.AgentFile{{Path: "dev", Mode: fs.ModeDevice | 0o644}}, nil), digest, "device files"},
		{"link out", label([]buildplan.AgentFile{{Path: "l", Mode: fs.ModeSymlink | 0o777, Link: "../../etc"}}, nil), digest, "outside the agent folder"},
		{"text size", label([]buildplan.AgentFile{jar}, map[string]string{"jennifer.jar": "short"}), digest, "has 5 bytes, the file 10"},
		{"bomb", label([]buildplan.AgentFile{{Path: "big", Mode: 0o644, Size: 1 << 62}}, nil), digest, "zip bomb"},
		{"empty", label(nil, nil), digest, "lists no files"},
		{"no digest", label([]buildplan.AgentFile{jar}, nil), "", "digest"},
		{"not json", "{", digest, "label " + LabelIndex},
		{"unknown field", `{"files":[],"extra":1}`, digest, "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := BundleFromIndex(tc.label, tc.digest, "agent image reg/agent:1", "agent.java", "", noOpen)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "reg/agent:1") {
				t.Errorf("error %v; want one naming the image and saying %q", err, tc.want)
			}
		})
	}
}
