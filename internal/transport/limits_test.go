package transport

import (
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// padConfig gives the config a label of n bytes, on every platform or on
// the one architecture given.
func padConfig(n int, arch string) func(*v1.ConfigFile) {
	return func(cf *v1.ConfigFile) {
		if arch != "" && cf.Architecture != arch {
			return
		}
		if cf.Config.Labels == nil {
			cf.Config.Labels = map[string]string{}
		}
		cf.Config.Labels["padding"] = strings.Repeat("x", n)
	}
}

// An image config past MaxConfigSize is refused by the size its manifest
// declares, naming the image and the limit: every image of a layout (an
// index's too), a docker-archive's; one under the limit is read.
func TestConfigSizeCap(t *testing.T) {
	const over = MaxConfigSize + 1
	huge, err := testenv.RandomImage(testenv.Spec{Layers: 1, LayerSize: 64, OCI: true, Config: padConfig(over, "")})
	if err != nil {
		t.Fatal(err)
	}
	// In an index, only the arm64 image is over the cap.
	idx, err := testenv.RandomIndex(testenv.Spec{Layers: 1, LayerSize: 64, Config: padConfig(over, "arm64")},
		v1.Platform{OS: "linux", Architecture: "amd64"}, v1.Platform{OS: "linux", Architecture: "arm64"})
	if err != nil {
		t.Fatal(err)
	}
	fine, err := testenv.RandomImage(testenv.Spec{Layers: 1, LayerSize: 64, OCI: true, Config: padConfig(MaxConfigSize-4096, "")})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		ref string
		a   *Artifact
		ok  bool
	}{
		{"oci:" + filepath.Join(dir, "layout") + ":huge", &Artifact{Image: huge}, false},
		{"oci:" + filepath.Join(dir, "layout") + ":index", &Artifact{Index: idx}, false},
		{"oci-archive:" + filepath.Join(dir, "a.tar") + ":huge", &Artifact{Image: huge}, false},
		{"docker-archive:" + filepath.Join(dir, "d.tar") + ":app:huge", &Artifact{Image: huge}, false},
		{"oci:" + filepath.Join(dir, "layout") + ":fine", &Artifact{Image: fine}, true},
		{"docker-archive:" + filepath.Join(dir, "d2.tar") + ":app:fine", &Artifact{Image: fine}, true},
	} {
		st := mustOpen(t, tt.ref)
		if err := st.Put(bg, tt.a); err != nil {
			t.Fatalf("%s: %v", tt.ref, err)
		}
		_, err := mustOpen(t, tt.ref).Get(bg)
		switch {
		case tt.ok && err != nil:
			t.Errorf("%s: %v", tt.ref, err)
		case !tt.ok && (err == nil || !strings.Contains(err.Error(), tt.ref) || !strings.Contains(err.Error(), "more than the 8 MiB jbuild reads")):
			t.Errorf("%s: error %v, want one naming the image and the 8 MiB limit", tt.ref, err)
		}
	}
}
