package testenv

import (
	"path/filepath"
	"runtime"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Image reads the image at ref (a loopback registry reference) or fails t.
func Image(t testing.TB, ref string) v1.Image {
	t.Helper()
	img, err := remote.Image(parseRef(t, ref))
	if err != nil {
		t.Fatalf("reading %s: %v", ref, err)
	}
	return img
}

// Config reads the config file of the image at ref or fails t.
func Config(t testing.TB, ref string) *v1.ConfigFile {
	t.Helper()
	cf, err := Image(t, ref).ConfigFile()
	if err != nil {
		t.Fatalf("reading %s config: %v", ref, err)
	}
	return cf
}

// Index reads the image index at ref or fails t.
func Index(t testing.TB, ref string) v1.ImageIndex {
	t.Helper()
	idx, err := remote.Index(parseRef(t, ref))
	if err != nil {
		t.Fatalf("reading index %s: %v", ref, err)
	}
	return idx
}

// RepoRoot is the repository's root directory (found from this source file,
// so it works from any test package's working directory).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// SampleJavaAgent is the path of the sample JENNIFER Java agent folder
// (examples/agents/jennifer-java-sample/agent.java). Treat it as read-only:
// copy it (t.TempDir + os.CopyFS) to change it.
func SampleJavaAgent() string {
	return filepath.Join(RepoRoot(), "examples", "agents", "jennifer-java-sample", "agent.java")
}
