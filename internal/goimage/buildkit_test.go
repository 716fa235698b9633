package goimage_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	bkclient "github.com/moby/buildkit/client"
	"github.com/tonistiigi/fsutil"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// TestImageRunsOnBuildkitd pushes the echo frontend image to the loopback
// registry and has buildkitd pull and run it both ways a frontend image is
// invoked: gateway.v0 with source=REF, and a Dockerfile whose first line
// is `# syntax=REF` given to the built-in dockerfile.v0.
func TestImageRunsOnBuildkitd(t *testing.T) {
	addr := testenv.Buildkitd(t)
	ref := testenv.RealRegistry(t) + "/jbuild/echofrontend:1"
	idx := buildEcho(t, v1.Platform{OS: "linux", Architecture: runtime.GOARCH})
	r, _ := name.ParseReference(ref, name.Insecure)
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := bkclient.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "Dockerfile"), []byte("# syntax="+ref+"\nFROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fs, err := fsutil.NewFS(src)
	if err != nil {
		t.Fatal(err)
	}
	for route, opt := range map[string]bkclient.SolveOpt{
		"gateway.v0 source=": {Frontend: "gateway.v0", FrontendAttrs: map[string]string{"source": ref}},
		"# syntax=":          {Frontend: "dockerfile.v0"},
	} {
		t.Run(route, func(t *testing.T) {
			out := t.TempDir()
			opt.LocalMounts = map[string]fsutil.FS{"context": fs, "dockerfile": fs}
			opt.Exports = []bkclient.ExportEntry{{Type: bkclient.ExporterLocal, OutputDir: out}}
			if _, err := c.Solve(ctx, nil, opt, nil); err != nil {
				t.Fatalf("solve: %v", err)
			}
			b, err := os.ReadFile(filepath.Join(out, "hello"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "hello from echofrontend test-1") {
				t.Errorf("/hello = %q", b)
			}
		})
	}
}
