package transport

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/stream"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// testUmask is the process umask, read the way a file creation sees it
// (syscall.Umask would change it for every test running meanwhile).
func testUmask(t testing.TB) fs.FileMode {
	t.Helper()
	p := filepath.Join(t.TempDir(), "probe")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o777)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return 0o777 &^ fi.Mode().Perm()
}

// checkModes fails t for every file under dir whose mode is not file and
// every folder whose mode is not folder.
func checkModes(t testing.TB, dir string, file, folder fs.FileMode) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := file
		if d.IsDir() {
			want = folder
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", p, got, want)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 6 {
		t.Fatalf("only %d entries under %s", n, dir)
	}
}

// Every file of a layout jbuild writes is 0644 and every folder 0755
// (minus what the umask takes away), whichever way go-containerregistry
// wrote it: a streamed layer (a temp file renamed, 0600), an index blob
// and the oci-layout file (os.ModePerm, 0755), index.json (a temp file).
func TestLayoutFileModes(t *testing.T) {
	umask := testUmask(t)
	dir := filepath.Join(t.TempDir(), "layout")

	// A layer streamed while it is written, as wrap's agent layer is.
	layer := stream.NewLayer(io.NopCloser(bytes.NewReader(bytes.Repeat([]byte("agent"), 4096))))
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		t.Fatal(err)
	}
	putLayout(t, "oci:"+dir+":img", &Artifact{Image: img}, &Artifact{Image: randomImage(t)})
	putLayout(t, "oci:"+dir+":idx", &Artifact{Index: randomIndex(t)})

	checkModes(t, dir, 0o644&^umask, 0o755&^umask)
}

// A layer that exists already keeps its mode: jbuild sets the modes of
// the files it adds, not of a layout's other files.
func TestLayoutModesOfExistingFilesKept(t *testing.T) {
	dir := t.TempDir()
	img := randomImage(t)
	putLayout(t, "oci:"+dir+":a", &Artifact{Image: img})
	cfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	p := blobPath(dir, cfg)
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	putLayout(t, "oci:"+dir+":b", &Artifact{Image: img})
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("existing blob %s: %v, %v; want its mode 0600 kept", p, fi.Mode(), err)
	}
}
