package examples_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// readmeMaxBytes is the README's budget: a guide that leads with what a
// user types, everything else in docs/ (issue 17).
const readmeMaxBytes = 20 * 1024

// docFiles are the README and the docs pages, relative to the repository
// root.
func docFiles(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("no docs/*.md pages")
	}
	return append([]string{"../README.md"}, pages...)
}

// The README stays a guide: at most 20 KiB, and it shows the three ways in
// and the two set-up commands.
func TestReadmeSize(t *testing.T) {
	dt, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(dt) > readmeMaxBytes {
		t.Errorf("README.md is %d bytes, over its %d-byte budget: move details to a docs/ page and link it", len(dt), readmeMaxBytes)
	}
	for _, want := range []string{
		"jbuild wrap docker-daemon:", // an image the local Docker holds
		"docker login",               // a registry image in CI
		"# syntax=",                  // the frontend
		"buildx plugin",              // what `docker build` needs for it
		"jbuild verify ",
		"jbuild k8s ",
		"make demo",
		"make test",
		"(docs/cli/jbuild.md)",
	} {
		if !strings.Contains(string(dt), want) {
			t.Errorf("README.md does not show %q", want)
		}
	}
}

// mdLines are the lines of a Markdown text outside fenced code blocks.
func mdLines(md string) []string {
	var out []string
	fence := ""
	for _, l := range strings.Split(md, "\n") {
		trimmed := strings.TrimSpace(l)
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		out = append(out, l)
	}
	return out
}

var (
	codeSpan = regexp.MustCompile("`[^`]*`")
	mdLink   = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	heading  = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
)

// slug is GitHub's anchor for a heading: the rendered text in lower case,
// every character that is not a letter, digit, mark, '_', '-' or space
// dropped, spaces turned into '-'.
func slug(h string) string {
	h = mdLink.ReplaceAllString(h, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-', r == '_', unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors are the anchors GitHub gives the headings of a Markdown file
// (a repeated heading gets -1, -2, ...).
func anchors(md string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, l := range mdLines(md) {
		m := heading.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		s := slug(m[1])
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

// Every relative link of the README and the docs pages names a file or
// folder that exists, and a #fragment names a heading of that page.
func TestDocsLinksResolve(t *testing.T) {
	cache := map[string]map[string]bool{}
	pageAnchors := func(path string) (map[string]bool, error) {
		if a, ok := cache[path]; ok {
			return a, nil
		}
		dt, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		cache[path] = anchors(string(dt))
		return cache[path], nil
	}
	links := 0
	for _, file := range docFiles(t) {
		dt, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(file, "../")
		for _, l := range mdLines(string(dt)) {
			for _, m := range mdLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(l, "``"), -1) {
				target := m[2]
				if regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`).MatchString(target) {
					continue // http:, https:, mailto:
				}
				links++
				path, frag, _ := strings.Cut(target, "#")
				resolved := file
				if path != "" {
					resolved = filepath.Join(filepath.Dir(file), path)
				}
				if _, err := os.Stat(resolved); err != nil {
					t.Errorf("%s: link %q: %s does not exist", name, target, strings.TrimPrefix(resolved, "../"))
					continue
				}
				if frag == "" {
					continue
				}
				if !strings.HasSuffix(resolved, ".md") {
					t.Errorf("%s: link %q: an anchor into a file that is not Markdown", name, target)
					continue
				}
				a, err := pageAnchors(resolved)
				if err != nil {
					t.Fatal(err)
				}
				if !a[frag] {
					t.Errorf("%s: link %q: %s has no heading with anchor #%s", name, target, strings.TrimPrefix(resolved, "../"), frag)
				}
			}
		}
	}
	if links == 0 {
		t.Error("no relative links found: the pattern no longer matches them")
	}
}

// The anchors the link check computes are GitHub's.
func TestSlug(t *testing.T) {
	for h, want := range map[string]string{
		"Image references and stores":                "image-references-and-stores",
		"Registries: credentials and TLS":            "registries-credentials-and-tls",
		"jbuild's own image":                         "jbuilds-own-image",
		"Agent images: `jbuild agent push`":          "agent-images-jbuild-agent-push",
		"The BuildKit frontend: `# syntax=`":         "the-buildkit-frontend--syntax",
		"`jbuild wrap SOURCE [-t TARGET]`":           "jbuild-wrap-source--t-target",
		"The raise, many images, containerd, memory": "the-raise-many-images-containerd-memory",
		"6. The raise (a against u)":                 "6-the-raise-a-against-u",
		"io.jbuild_x [link](x.md)":                   "iojbuild_x-link",
	} {
		if got := slug(h); got != want {
			t.Errorf("slug(%q) = %q, want %q", h, got, want)
		}
	}
}

// helpOf runs `jbuild ARGS... --help` and returns the subcommands and the
// flags (long names and shorthands) it lists. Deprecated flags are hidden
// from --help, so a page that still uses one fails too.
func helpOf(t *testing.T, bin string, path []string) (cmds, flags map[string]bool) {
	t.Helper()
	out, err := exec.Command(bin, append(append([]string(nil), path...), "--help")...).CombinedOutput()
	if err != nil {
		t.Fatalf("jbuild %s --help: %v\n%s", strings.Join(path, " "), err, out)
	}
	cmds, flags = map[string]bool{}, map[string]bool{}
	flagLine := regexp.MustCompile(`^\s+(?:-(\w), )?--([\w-]+)`)
	cmdLine := regexp.MustCompile(`^\s+(\S+)\s{2,}\S`)
	section := ""
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasSuffix(l, ":") && !strings.HasPrefix(l, " ") {
			section = l
			continue
		}
		switch section {
		case "Available Commands:", "Additional Commands:":
			if m := cmdLine.FindStringSubmatch(l); m != nil {
				cmds[m[1]] = true
			}
		case "Flags:", "Global Flags:":
			if m := flagLine.FindStringSubmatch(l); m != nil {
				if m[1] != "" {
					flags["-"+m[1]] = true
				}
				flags["--"+m[2]] = true
			}
		}
	}
	return cmds, flags
}

// Every `jbuild` command line in the shell blocks of the README and the
// docs pages names commands that exist and only flags those commands have
// (as their --help lists them), so the pages follow the CLI as it changes.
func TestDocsCommandsUseRealFlags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "jbuild")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/jbuild").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/jbuild: %v\n%s", err, out)
	}
	type help struct{ cmds, flags map[string]bool }
	helps := map[string]help{}
	helpFor := func(path []string) help {
		k := strings.Join(path, " ")
		if h, ok := helps[k]; ok {
			return h
		}
		c, f := helpOf(t, bin, path)
		helps[k] = help{c, f}
		return helps[k]
	}
	lines := 0
	for _, file := range docFiles(t) {
		dt, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(file, "../")
		for _, block := range shellBlocks(string(dt)) {
			for _, line := range strings.Split(block, "\n") {
				fields := strings.Fields(line)
				for i := 0; i < len(fields); i++ {
					if strings.HasPrefix(fields[i], "#") {
						break // a comment
					}
					if fields[i] != "jbuild" {
						continue
					}
					lines++
					var path []string
					h := helpFor(nil)
					j := i + 1
					for ; j < len(fields) && h.cmds[fields[j]]; j++ {
						path = append(path, fields[j])
						h = helpFor(path)
					}
					for ; j < len(fields); j++ {
						f := fields[j]
						if strings.HasPrefix(f, "#") || f == "|" || f == ">" || f == ">>" || f == "&&" || f == ";" {
							break
						}
						if !strings.HasPrefix(f, "-") || f == "-" {
							continue
						}
						f, _, _ = strings.Cut(f, "=")
						if !h.flags[f] {
							t.Errorf("%s: %q: jbuild %s has no flag %s", name, strings.TrimSpace(line), strings.Join(path, " "), f)
						}
					}
					i = j
				}
			}
		}
	}
	if lines == 0 {
		t.Error("no jbuild command lines found")
	}
}
