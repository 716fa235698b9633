package frontend

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/jbuild-dev/jbuild/internal/agent"
)

// TestIndexFolderIsTheFolder: the indexing step's answer makes the same
// bundle (digest, files, version, config text) as reading the folder, for a
// context that is the agent folder and for one that holds it; a context it
// cannot index says why instead of failing.
func TestIndexFolderIsTheFolder(t *testing.T) {
	ctx := context.Background()
	sample, err := filepath.Abs("../examples/agents/jennifer-java-sample/agent.java")
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(sample)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	what := "build context " + AgentContext
	want, err := agent.OpenFS(ctx, root.FS(), what, what, agent.Options{BundleRoot: bundleRoots()})
	if err != nil {
		t.Fatal(err)
	}
	wantConf, err := os.ReadFile(filepath.Join(sample, "conf", "jennifer.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, sub string }{
		{sample, ""},
		{filepath.Dir(sample), "agent.java"},
	} {
		ix := indexFolder(ctx, tc.dir)
		if ix.Unsupported != "" || ix.Sub != tc.sub {
			t.Fatalf("index of %s: sub %q, unsupported %q; want sub %q", tc.dir, ix.Sub, ix.Unsupported, tc.sub)
		}
		reads := 0
		got, err := agent.BundleFromIndex(ix.Index, ix.Digest, what, "agent.java", ix.Version, func(rel string) (io.ReadCloser, error) {
			reads++
			return root.Open(rel)
		})
		if err != nil {
			t.Fatalf("index of %s: %v", tc.dir, err)
		}
		if got.Digest != want.Digest || got.Version != want.Version || !reflect.DeepEqual(got.Files, want.Files) {
			t.Errorf("index of %s: digest %s version %q %d files; the folder read: %s %q %d files", tc.dir, got.Digest, got.Version, len(got.Files), want.Digest, want.Version, len(want.Files))
		}
		rc, err := got.Open("conf/jennifer.conf")
		if err != nil {
			t.Fatal(err)
		}
		conf, _ := io.ReadAll(rc)
		rc.Close()
		if string(conf) != string(wantConf) || reads != 0 {
			t.Errorf("index of %s: conf/jennifer.conf %q read from the folder %d times; want its text from the index", tc.dir, conf, reads)
		}
	}

	one := t.TempDir()
	if err := os.WriteFile(filepath.Join(one, "opentelemetry-javaagent-2.33.1.jar"), []byte("jar"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{one, filepath.Join(one, "missing")} {
		if ix := indexFolder(ctx, dir); ix.Unsupported == "" || ix.Index != "" {
			t.Errorf("index of %s: %+v; want it unsupported, for the frontend to read", dir, ix)
		}
	}
}
