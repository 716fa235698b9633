package testenv

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/jbuild-dev/jbuild/internal/goimage"
)

// FrontendTestRepo is the repository FrontendImage pushes to in the shared
// registry.
const FrontendTestRepo = "jbuild/frontend:test"

// frontendImage is the frontend image of this test binary.
var frontendImage struct {
	once sync.Once
	ref  string
	err  error
}

// FrontendImage builds the jbuild frontend image from ./cmd/jbuild-frontend
// of this checkout (for the host platform only, linux/amd64 here: the
// frontend always runs on the buildkitd host, whatever platforms the build
// targets), pushes it to the shared registry once per test binary and
// returns its reference, "127.0.0.1:PORT/jbuild/frontend:test" on the real
// registry (RealRegistry: buildkitd and dockerd pull from it), for a
// `# syntax=` line or gateway.v0's source option. The first call compiles
// the frontend (seconds with a warm Go build cache, about a minute cold).
func FrontendImage(t testing.TB) string {
	t.Helper()
	reg := RealRegistry(t)
	frontendImage.once.Do(func() {
		frontendImage.ref, frontendImage.err = pushFrontendImage(reg)
	})
	if frontendImage.err != nil {
		t.Fatalf("frontend image: %v", frontendImage.err)
	}
	return frontendImage.ref
}

func pushFrontendImage(reg string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	idx, err := goimage.Frontend.Build(ctx, goimage.Options{
		Dir:       RepoRoot(),
		Platforms: []v1.Platform{{OS: "linux", Architecture: runtime.GOARCH}},
		Version:   "test",
	})
	if err != nil {
		return "", err
	}
	ref := reg + "/" + FrontendTestRepo
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return "", err
	}
	if err := remote.WriteIndex(r, idx, remote.WithContext(ctx)); err != nil {
		return "", err
	}
	return ref, nil
}
