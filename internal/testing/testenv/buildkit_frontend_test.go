package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFrontendImage(t *testing.T) {
	RequireIntegration(t)
	if _, err := os.Stat(filepath.Join(RepoRoot(), "cmd", "jbuild-frontend")); err != nil {
		t.Skipf("no cmd/jbuild-frontend yet: %v", err)
	}
	ref := FrontendImage(t)
	if again := FrontendImage(t); again != ref {
		t.Errorf("second FrontendImage call: %s, first %s", again, ref)
	}
	if want := Registry(t) + "/" + FrontendTestRepo; ref != want {
		t.Errorf("ref %s, want %s", ref, want)
	}
	im, err := Index(t, ref).IndexManifest()
	if err != nil || len(im.Manifests) != 1 {
		t.Fatalf("index: %v, %v; want one (host) platform", im, err)
	}
	cf := Config(t, ref)
	if cf.Config.Labels["moby.buildkit.frontend.network.none"] != "true" || cf.Config.Entrypoint[0] != "/bin/jbuild-frontend" {
		t.Errorf("config: labels %v entrypoint %v", cf.Config.Labels, cf.Config.Entrypoint)
	}
}
