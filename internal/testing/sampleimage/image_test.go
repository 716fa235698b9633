package sampleimage

import (
	"archive/tar"
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
)

func TestJavaAppDeterministic(t *testing.T) {
	a, err := JavaApp()
	if err != nil {
		t.Fatal(err)
	}
	b, err := JavaApp()
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("two builds gave %s and %s", da, db)
	}
}

func TestJavaAppConfig(t *testing.T) {
	img, err := JavaApp()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	for _, want := range []string{"JAVA_HOME=" + JavaHome, "JAVA_TOOL_OPTIONS=-Xmx256m"} {
		if !slices.Contains(c.Env, want) {
			t.Errorf("env %v lacks %s", c.Env, want)
		}
	}
	if !slices.Equal(c.Entrypoint, []string{"java", "-jar", "/app/app.jar"}) || c.User != "app" ||
		c.WorkingDir != "/app" || len(c.ExposedPorts) != 1 || !cfg.Created.Equal(Created) {
		t.Errorf("config: %+v created %v", c, cfg.Created)
	}
	if len(cfg.RootFS.DiffIDs) != 1 || len(cfg.History) != 1 {
		t.Errorf("rootfs %v history %v", cfg.RootFS.DiffIDs, cfg.History)
	}
}

func TestRootFSFiles(t *testing.T) {
	data, err := RootFSTar()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*tar.Header{}
	content := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name] = h
		b, _ := io.ReadAll(tr)
		content[h.Name] = string(b)
	}
	for name, mode := range map[string]int64{
		"etc/passwd":                 0o644,
		"etc/group":                  0o644,
		"app/app.jar":                0o644,
		"lib64/ld-linux-x86-64.so.2": 0o755,
		strings.TrimPrefix(JavaHome, "/") + "/bin/java": 0o755,
	} {
		h, ok := got[name]
		if !ok {
			t.Errorf("missing %s", name)
			continue
		}
		if h.Mode != mode || h.Uid != 0 || !h.ModTime.Equal(Created) {
			t.Errorf("%s: mode %o uid %d mtime %v", name, h.Mode, h.Uid, h.ModTime)
		}
	}
	if !strings.Contains(content["etc/passwd"], "app:x:1000:1000:") || !strings.Contains(content["etc/group"], "app:x:1000:") {
		t.Errorf("passwd/group lack the app user:\n%s%s", content["etc/passwd"], content["etc/group"])
	}
	if !strings.HasPrefix(content["app/app.jar"], "PK") {
		t.Errorf("app.jar is not a zip")
	}
}

func TestWriteLayout(t *testing.T) {
	dir := t.TempDir()
	d1, err := Write(dir, "app-1.0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Write(dir, "app-1.0"); err != nil { // replaces, no duplicate
		t.Fatal(err)
	}
	if _, err := Write(dir, "other"); err != nil { // appends
		t.Fatal(err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := p.ImageIndex()
	im, _ := idx.IndexManifest()
	if len(im.Manifests) != 2 {
		t.Fatalf("index.json has %d manifests, want 2: %+v", len(im.Manifests), im.Manifests)
	}
	descs, err := partialFind(p, "app-1.0")
	if err != nil || len(descs) != 1 || descs[0] != d1.String() {
		t.Errorf("tag app-1.0 -> %v (%v), want %s", descs, err, d1)
	}
	img, err := p.Image(d1)
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err := img.ConfigFile(); err != nil || cfg.Config.User != "app" {
		t.Errorf("image read back from layout: %v %v", cfg, err)
	}
}

func partialFind(p layout.Path, tag string) ([]string, error) {
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []string
	m := match.Annotation(RefNameAnnotation, tag)
	for _, d := range im.Manifests {
		if m(d) {
			out = append(out, d.Digest.String())
		}
	}
	return out, nil
}
