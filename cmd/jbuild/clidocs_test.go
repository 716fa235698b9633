package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra/doc"
)

// The CLI reference, docs/cli/jbuild*.md, is generated from the cobra
// commands (like crane's doc/crane_*.md): `make docs` (or go generate
// ./cmd/jbuild) rewrites it, and this test fails when it is not current.
//
//go:generate go test -run TestCLIReference -update-cli-docs .

var updateCLIDocs = flag.Bool("update-cli-docs", false, "rewrite docs/cli from the cobra commands")

const cliDocsDir = "../../docs/cli"

func TestCLIReference(t *testing.T) {
	got := t.TempDir()
	root, _ := newRootCmd()
	root.DisableAutoGenTag = true // no generation date: the files change only with the commands
	if err := doc.GenMarkdownTree(root, got); err != nil {
		t.Fatal(err)
	}
	gen, err := filepath.Glob(filepath.Join(got, "*.md"))
	if err != nil || len(gen) == 0 {
		t.Fatalf("nothing generated (%v)", err)
	}
	if *updateCLIDocs {
		if err := os.MkdirAll(cliDocsDir, 0o755); err != nil {
			t.Fatal(err)
		}
		old, _ := filepath.Glob(filepath.Join(cliDocsDir, "jbuild*.md"))
		for _, f := range old {
			os.Remove(f)
		}
		for _, f := range gen {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(cliDocsDir, filepath.Base(f)), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	have, _ := filepath.Glob(filepath.Join(cliDocsDir, "jbuild*.md"))
	want := map[string]bool{}
	for _, f := range gen {
		want[filepath.Base(f)] = true
		b, _ := os.ReadFile(f)
		cur, err := os.ReadFile(filepath.Join(cliDocsDir, filepath.Base(f)))
		if err != nil || string(cur) != string(b) {
			t.Errorf("docs/cli/%s is not current: run `make docs`", filepath.Base(f))
		}
	}
	for _, f := range have {
		if !want[filepath.Base(f)] {
			t.Errorf("docs/cli/%s documents no command: run `make docs`", filepath.Base(f))
		}
	}
}
