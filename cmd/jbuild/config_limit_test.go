package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/jbuild-dev/jbuild/internal/testing/sampleimage"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// hugeConfigImage is the sample image with a config of about size bytes
// (one long label).
func hugeConfigImage(t *testing.T, size int) v1.Image {
	t.Helper()
	img, err := sampleimage.JavaApp()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.Labels["padding"] = strings.Repeat("x", size)
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

// A 50 MB image config took 20 s and 805 MB of memory to wrap; now it is
// refused before it is read (exit 1, the image and the limit named), from
// an OCI layout and from a registry.
func TestHugeImageConfigRefused(t *testing.T) {
	img := hugeConfigImage(t, 50<<20)
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{sampleimage.RefNameAnnotation: "app-1.0"})); err != nil {
		t.Fatal(err)
	}
	reg := testenv.Registry(t)
	testenv.PushImage(t, reg+"/cli/huge-config:1", img)
	for _, src := range []string{"oci:" + dir + ":app-1.0", reg + "/cli/huge-config:1"} {
		start := time.Now()
		r := jbuild(t, "wrap", src, "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5", "-t", "oci:"+t.TempDir()+":out")
		if r.code != 1 || !strings.Contains(r.stderr, src) || !strings.Contains(r.stderr, "the image config is 50.0 MiB, more than the 8 MiB jbuild reads") {
			t.Errorf("wrap %s: exit %d, stderr %q; want exit 1 naming the image and the 8 MiB limit", src, r.code, r.stderr)
		}
		t.Logf("%s refused in %v", src, time.Since(start))
	}
	// Under the cap is fine.
	ok := hugeConfigImage(t, 1<<20)
	testenv.PushImage(t, reg+"/cli/big-config:1", ok)
	if r := jbuild(t, "plan", reg+"/cli/big-config:1", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5"); r.code != 0 {
		t.Errorf("a 1 MiB config: exit %d: %s", r.code, r.stderr)
	}
}
