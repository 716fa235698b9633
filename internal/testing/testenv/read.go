package testenv

import (
	"crypto/rand"
	"os"
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

// LargerSampleJavaAgent is a copy of the sample Java agent in a temporary
// folder with one more jar, extra.jar, of size random bytes: an agent whose
// layer is as large as a test needs (a real agent is tens of MB; the
// sample is a few KB).
func LargerSampleJavaAgent(t testing.TB, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "agent.java")
	if err := os.CopyFS(dir, os.DirFS(SampleJavaAgent())); err != nil {
		t.Fatal(err)
	}
	jar := make([]byte, size)
	rand.Read(jar)
	if err := os.WriteFile(filepath.Join(dir, "extra.jar"), jar, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
