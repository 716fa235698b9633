package examples_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// shellBlocks returns the ```sh blocks of a Markdown text, their line
// continuations joined.
func shellBlocks(md string) []string {
	var blocks []string
	for _, part := range strings.Split(md, "```sh\n")[1:] {
		body, _, _ := strings.Cut(part, "```")
		blocks = append(blocks, strings.ReplaceAll(body, "\\\n", " "))
	}
	return blocks
}

// agentPaths are the agent folders a command passes: the jennifer-agent
// named context (docker buildx, buildctl) and `jbuild wrap --agent`, when
// it is a folder rather than an agent image.
var agentPaths = regexp.MustCompile(`(?:--build-context jennifer-agent=|--local jennifer-agent=|--agent )("[^"]*"|\S+)`)

// checkAgentPaths checks that every agent folder the commands of md pass
// exists, as the commands run from dir (or the folder a `cd` line in the
// block moves to); a "$VAR" must be set in the same document.
func checkAgentPaths(t *testing.T, name, md, dir string) int {
	t.Helper()
	n := 0
	for _, b := range shellBlocks(md) {
		wd := dir
		for _, line := range strings.Split(b, "\n") {
			if d, ok := strings.CutPrefix(strings.TrimSpace(line), "cd "); ok {
				wd = filepath.Join(dir, d)
			}
			for _, m := range agentPaths.FindAllStringSubmatch(line, -1) {
				p := strings.Trim(m[1], `"`)
				switch {
				case strings.HasPrefix(p, "docker-image://"), !strings.ContainsAny(p[:1], "./$~"):
					continue // an agent image
				case strings.HasPrefix(p, "$"):
					v := strings.Trim(p, "${}")
					if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(v) + `=\S`).MatchString(md) {
						t.Errorf("%s: %q: %s is never set", name, strings.TrimSpace(line), v)
					}
				default:
					n++
					if _, err := os.Stat(filepath.Join(wd, p)); err != nil {
						t.Errorf("%s: %q: %v", name, strings.TrimSpace(line), err)
					}
				}
			}
		}
	}
	return n
}

// Every agent folder an example's README, and the docs pages that moved
// the project README's frontend and example commands (docs/frontend.md,
// docs/proof.md), pass to --build-context, buildctl --local or
// `jbuild wrap --agent` exists, so the commands work as written (from the
// repository root, or the folder a `cd` line moves to).
func TestReadmeAgentPathsExist(t *testing.T) {
	readmes, err := filepath.Glob("*/README.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(readmes) == 0 {
		t.Fatal("no example READMEs")
	}
	found := 0
	for _, r := range readmes {
		dt, err := os.ReadFile(r)
		if err != nil {
			t.Fatal(err)
		}
		found += checkAgentPaths(t, r, string(dt), filepath.Dir(r))
	}
	for _, page := range []string{"docs/frontend.md", "docs/proof.md"} {
		dt, err := os.ReadFile(filepath.Join("..", page))
		if err != nil {
			t.Fatal(err)
		}
		n := checkAgentPaths(t, page, string(dt), "..")
		if n == 0 {
			t.Errorf("%s: no agent folder in its commands: the local-folder example is gone, or the pattern no longer matches it", page)
		}
		found += n
	}
	if found == 0 {
		t.Error("no agent folder found in the commands: the pattern no longer matches them")
	}
}
