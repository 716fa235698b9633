package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// hostileCase is one entry of testdata/hostile/cases.json, written by
// testdata/hostile/gen.
type hostileCase struct {
	File, Kind, Use, Entry, Reason, MaxSize, What string
}

const hostileDir = "../../testdata/hostile"

// TestHostileCorpus runs `jbuild wrap` with every hostile agent archive and
// image of the corpus, as the agent or as the image to wrap, and checks the
// promise: exit code 1, a message naming the entry and saying why, and
// nothing written: no target, the source layout unchanged, no file in the
// agent cache and no temporary file left behind.
func TestHostileCorpus(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(hostileDir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []hostileCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 30 {
		t.Fatalf("only %d hostile cases; regenerate with go run ./testdata/hostile/gen", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Use+"/"+c.File, func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			src := sampleLayout(t)
			srcRef := "oci:" + src + ":app-1.0"
			agentArg := sampleAgentDir(t)
			input := filepath.Join(work, "input")
			copyTree(t, filepath.Join(hostileDir, c.File), input)
			kind := "oci:"
			if strings.HasSuffix(c.File, ".tar") {
				kind = "oci-archive:"
			}
			switch c.Use {
			case "agent":
				agentArg = input
				if ext := hostileExt(c.File); ext != "" {
					agentArg = input + ext
					if err := os.Rename(input, agentArg); err != nil {
						t.Fatal(err)
					}
				}
			case "agent-image":
				agentArg = kind + input + ":agent"
			case "source":
				srcRef = kind + input + ":agent"
				src = input
			}
			before := snapshot(t, src)
			target := filepath.Join(work, "target")
			if c.Use == "target" {
				target = input
			}
			targetBefore := snapshot(t, target)
			args := []string{"wrap", srcRef, "-t", "oci:" + target + ":out", "--agent", agentArg, "--server-address", "10.0.0.1"}
			if c.Use == "profile" {
				args = append(args, "--profile", input)
			}
			if c.MaxSize != "" {
				args = append(args, "--agent-max-size", c.MaxSize)
			}
			cache, tmp := filepath.Join(work, "cache"), filepath.Join(work, "tmp")
			if err := os.Mkdir(tmp, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(jbuildBin, args...)
			cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cache, "TMPDIR="+tmp)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("%s (%s): exit %v, want 1\n%s", c.File, c.What, err, stderr.String())
			}
			msg := stderr.String()
			if !strings.Contains(msg, c.Entry) || !strings.Contains(msg, c.Reason) {
				t.Errorf("%s (%s):\n%s\nwant the entry %q and %q", c.File, c.What, msg, c.Entry, c.Reason)
			}
			if after := snapshot(t, target); after != targetBefore {
				t.Errorf("target %s changed by a refused wrap: %v", target, listTree(t, target))
			}
			if after := snapshot(t, src); after != before {
				t.Errorf("the source changed")
			}
			// A hostile agent leaves nothing in the cache. With a hostile
			// source, target or profile the (good) agent's layer may have
			// been cached meanwhile: complete entries, never temporary files.
			hostileAgent := c.Use == "agent" || c.Use == "agent-image"
			for _, f := range listTree(t, cache) {
				if hostileAgent || strings.Contains(filepath.Base(f), ".tmp") {
					t.Errorf("left in the agent cache: %s", f)
				}
			}
			if files := listTree(t, tmp); len(files) != 0 {
				t.Errorf("temporary files left: %v", files)
			}
		})
	}
}

func hostileExt(name string) string {
	for _, e := range []string{".tar.gz", ".zip", ".tar"} {
		if strings.HasSuffix(name, e) {
			return e
		}
	}
	return ""
}

// copyTree copies a file or folder (the corpus is read-only input: a bug
// must not be able to change it).
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	st, err := os.Stat(from)
	if err != nil {
		t.Fatal(err)
	}
	if st.IsDir() {
		err = os.CopyFS(to, os.DirFS(from))
	} else {
		var b []byte
		if b, err = os.ReadFile(from); err == nil {
			err = os.WriteFile(to, b, 0o644)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// listTree lists the regular files (and anything not a folder) under dir.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// snapshot is the names, sizes and contents of a file or folder.
func snapshot(t *testing.T, p string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		b.WriteString(q + "\n")
		if !d.IsDir() {
			c, _ := os.ReadFile(q)
			b.Write(c)
		}
		return nil
	})
	return b.String()
}
