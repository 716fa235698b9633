package manifest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	yaml "go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const pinned = "@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func parseFile(t *testing.T, name string) (*File, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return f, data
}

func TestParseFindsEveryContainer(t *testing.T) {
	f, _ := parseFile(t, "app.yaml")
	var got []string
	for _, im := range f.Images {
		got = append(got, im.Where()+" "+im.Value)
	}
	want := []string{
		"Deployment/web initContainers[migrate] registry.example.com/shop/web:1.2",
		"Deployment/web containers[web] registry.example.com/shop/web:1.2",
		"Deployment/web containers[proxy] localhost:5000/envoy:v1",
		"CronJob/report containers[report] registry.example.com/shop/report@sha256:0123456789012345678901234567890123456789012345678901234567890123",
		"Pod/debug containers[shell] python:3.12-slim",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("images:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if f.Images[0].Namespace != "shop" || f.Images[0].Doc != 0 || f.Images[3].Doc != 2 || f.Images[4].Doc != 3 {
		t.Errorf("namespace/doc indexes wrong: %+v", f.Images)
	}
	if f.Images[0].Line != 19 {
		t.Errorf("init container image at line %d, want 19", f.Images[0].Line)
	}
}

// The round trip: only the image values change; comments, key order,
// quoting, flow style, document markers stay byte for byte.
func TestRewriteKeepsEverythingElse(t *testing.T) {
	f, orig := parseFile(t, "app.yaml")
	repl := map[string]string{
		"registry.example.com/shop/web:1.2": "registry.example.com/shop/web:1.2-jennifer" + pinned,
		"registry.example.com/shop/report@sha256:0123456789012345678901234567890123456789012345678901234567890123": "registry.example.com/shop/report:sha256-0123-jennifer" + pinned,
		"python:3.12-slim":        "python:3.12-slim-jennifer" + pinned,
		"localhost:5000/envoy:v1": "localhost:5000/envoy:v1", // left alone
	}
	out, n, err := f.Rewrite(repl)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("changed %d fields, want 4", n)
	}
	golden(t, "app.golden.yaml", out)

	// Line by line, only lines holding a replaced image differ.
	ol, nl := strings.Split(string(orig), "\n"), strings.Split(string(out), "\n")
	if len(ol) != len(nl) {
		t.Fatalf("line count changed: %d -> %d", len(ol), len(nl))
	}
	for i := range ol {
		if ol[i] != nl[i] && !strings.Contains(nl[i], "-jennifer@sha256:") {
			t.Errorf("line %d changed unexpectedly:\n%s\n%s", i+1, ol[i], nl[i])
		}
	}
	// And the rewritten file parses to the same resources with new images.
	f2, err := Parse("out", out)
	if err != nil {
		t.Fatal(err)
	}
	if len(f2.Images) != len(f.Images) {
		t.Fatalf("%d images after rewrite, want %d", len(f2.Images), len(f.Images))
	}
	for i, im := range f2.Images {
		want := repl[f.Images[i].Value]
		if im.Value != want {
			t.Errorf("image %d = %q, want %q", i, im.Value, want)
		}
	}
}

func TestRewriteJSON(t *testing.T) {
	f, _ := parseFile(t, "pod.json")
	out, n, err := f.Rewrite(map[string]string{"registry.example.com/shop/api:2.0": "registry.example.com/shop/api:2.0-jennifer" + pinned})
	if err != nil || n != 1 {
		t.Fatalf("n=%d err=%v", n, err)
	}
	golden(t, "pod.golden.json", out)
}

func TestRewriteNothingIsIdentity(t *testing.T) {
	f, orig := parseFile(t, "app.yaml")
	out, n, err := f.Rewrite(nil)
	if err != nil || n != 0 || !bytes.Equal(out, orig) {
		t.Fatalf("empty rewrite changed the file (n=%d, err=%v)", n, err)
	}
}

func TestParseErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"not yaml":         "kind: Pod\nspec: [\n",
		"image not string": "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: {x: 1}\n",
		"folded image":     "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: >-\n      nginx:1\n",
		"escaped image":    "kind: Pod\nspec:\n  containers:\n  - name: a\n    image: \"ngi\\x6Ex:1\"\n",
	} {
		if _, err := Parse(name, []byte(doc)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Non-workloads and documents without containers are fine.
	f, err := Parse("cm", []byte("kind: ConfigMap\ndata: {image: x}\n---\n---\nkind: Deployment\nspec: {}\n"))
	if err != nil || len(f.Images) != 0 {
		t.Fatalf("images=%v err=%v", f.Images, err)
	}
}

func TestUnicodeBeforeImage(t *testing.T) {
	doc := "kind: Pod\nspec:\n  containers: [{name: \"ünï\", image: app:1}]\n"
	f, err := Parse("u", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := f.Rewrite(map[string]string{"app:1": "app:1-jennifer" + pinned})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(doc, "app:1", "app:1-jennifer"+pinned, 1)
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestSplitRef(t *testing.T) {
	for in, want := range map[string]Ref{
		"nginx":                           {Repository: "nginx"},
		"nginx:1.25":                      {Repository: "nginx", Tag: "1.25"},
		"localhost:5000/app":              {Repository: "localhost:5000/app"},
		"localhost:5000/app:1":            {Repository: "localhost:5000/app", Tag: "1"},
		"r.io/a/b:1@sha256:abc":           {Repository: "r.io/a/b", Tag: "1", Digest: "sha256:abc"},
		"r.io:443/a@sha256:abc":           {Repository: "r.io:443/a", Digest: "sha256:abc"},
		"r.io/a/b:1.2-jennifer@sha256:ab": {Repository: "r.io/a/b", Tag: "1.2-jennifer", Digest: "sha256:ab"},
	} {
		got := SplitRef(in)
		if got != want {
			t.Errorf("SplitRef(%q) = %+v, want %+v", in, got, want)
		}
		if got.String() != in {
			t.Errorf("String() = %q, want %q", got.String(), in)
		}
	}
}

func TestKustomize(t *testing.T) {
	out, err := Kustomize([]KustomizeImage{
		{Name: "registry.example.com/shop/web", NewName: "registry.example.com/shop/web", NewTag: "1.2-jennifer", Digest: "sha256:aa"},
		{Name: "python", NewName: "python", NewTag: "3.12-slim-jennifer", Digest: "sha256:bb"},
	})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "kustomize.golden.yaml", out)
	var k struct {
		Images []KustomizeImage `yaml:"images"`
	}
	if err := yaml.Unmarshal(out, &k); err != nil || len(k.Images) != 2 || k.Images[0].Name != "python" {
		t.Fatalf("kustomize output does not parse back: %v %+v", err, k)
	}
	if _, err := Kustomize([]KustomizeImage{{Name: "a", NewTag: "1"}, {Name: "a", NewTag: "2"}}); err == nil {
		t.Error("two tags of one name: no error")
	}
	// The same result reached from two spellings (a:1 and a:1@digest) is one entry.
	out, err = Kustomize([]KustomizeImage{{Name: "a", NewTag: "1"}, {Name: "a", NewTag: "1"}})
	if err != nil || strings.Count(string(out), "name: a") != 1 {
		t.Errorf("duplicate entry: %v\n%s", err, out)
	}
}
