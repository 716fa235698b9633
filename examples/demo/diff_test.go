package main

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/jbuild-dev/jbuild/internal/testing/sampleimage"
)

// TestDiffAndLayout wraps the sample image by hand (what jbuild wrap will
// do) in a layout and checks what the demo prints about it.
func TestDiffAndLayout(t *testing.T) {
	dir := t.TempDir()
	if _, err := sampleimage.Write(dir, sourceTag); err != nil {
		t.Fatal(err)
	}
	before, err := readImage(dir, sourceTag)
	if err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "opt/jennifer/agent.java/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "opt/jennifer/agent.java/logs/", Typeflag: tar.TypeDir, Mode: 0o755, Uid: 1000, Gid: 1000})
	tw.Close()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	img, _ := sampleimage.JavaApp()
	img, _ = mutate.AppendLayers(img, layer)
	cfg, _ := img.ConfigFile()
	cfg = cfg.DeepCopy()
	for i, kv := range cfg.Config.Env {
		if strings.HasPrefix(kv, "JAVA_TOOL_OPTIONS=") {
			cfg.Config.Env[i] = kv + " -javaagent:/opt/jennifer/agent.java/jennifer.jar"
		}
	}
	cfg.Config.Labels["io.example.agent"] = "jennifer"
	img, _ = mutate.ConfigFile(img, cfg)
	p, _ := layout.FromPath(dir)
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{sampleimage.RefNameAnnotation: targetTag})); err != nil {
		t.Fatal(err)
	}
	after, err := readImage(dir, targetTag)
	if err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := printDiff(&out, before, after); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"  layers      1 -> 2",
		"  user        app",
		"-     JAVA_TOOL_OPTIONS=-Xmx256m\n+     JAVA_TOOL_OPTIONS=-Xmx256m -javaagent:/opt/jennifer/agent.java/jennifer.jar",
		"      JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64",
		"+     io.example.agent=jennifer",
		"1000:1000",
		"/opt/jennifer/agent.java/logs/",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	t.Log("\n" + got)
	if _, err := readImage(dir, "nope"); err == nil {
		t.Error("unknown tag resolved")
	}
}
