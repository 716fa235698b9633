package transport

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// snapshot is every entry under root (root included) with its mode and,
// for files, its bytes: two equal snapshots mean nothing was touched.
func snapshot(t testing.TB, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %v", p, fi.Mode())
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, " %q", data)
		}
		b.WriteByte('\n')
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// writeFiles creates files (name: content) under dir.
func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const ociLayoutFile = `{"imageLayoutVersion":"1.0.0"}`

// A folder that is not an OCI layout (a web project with its own
// index.json, any folder with files) is refused as a target and left
// exactly as it was, instead of getting blobs/ and an index.json jbuild
// made up.
func TestLayoutPutRefusesNonLayoutFolder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"web project index.json", map[string]string{
			"index.json":   `{"name":"web","version":"1.0.0"}`,
			"package.json": `{"name":"web"}`,
			"src/app.js":   "console.log(1)\n",
		}, "no oci-layout file"},
		{"index.json array", map[string]string{"index.json": `[{"a":1},{"b":2}]`}, "no oci-layout file"},
		{"files without index.json", map[string]string{"README.md": "# web\n"}, "no oci-layout file"},
		{"oci-layout but index.json not an index", map[string]string{
			"oci-layout": ociLayoutFile,
			"index.json": `{"name":"web","version":"1.0.0"}`,
		}, "schemaVersion 0"},
		{"oci-layout but index.json array", map[string]string{
			"oci-layout": ociLayoutFile,
			"index.json": `[1,2,3]`,
		}, "index.json"},
		{"oci-layout but index.json a manifest", map[string]string{
			"oci-layout": ociLayoutFile,
			"index.json": `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","manifests":[]}`,
		}, "application/vnd.oci.image.manifest.v1+json"},
		{"oci-layout not valid", map[string]string{
			"oci-layout": "layout\n",
			"index.json": `{"schemaVersion":2,"manifests":[]}`,
		}, "oci-layout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "web")
			writeFiles(t, dir, tc.files)
			before := snapshot(t, dir)
			err := mustOpen(t, "oci:"+dir+":1").Put(bg, &Artifact{Image: randomImage(t)})
			if err == nil {
				t.Fatal("Put into a folder that is not an OCI layout succeeded")
			}
			t.Log(err)
			for _, w := range []string{dir, "is not an OCI layout", tc.want, "pick an empty or new folder, or an existing OCI layout"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if after := snapshot(t, dir); after != before {
				t.Errorf("folder changed by a refused Put:\n%s---\n%s", before, after)
			}
		})
	}

	t.Run("a file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "notes")
		writeFiles(t, filepath.Dir(file), map[string]string{"notes": "hello\n"})
		before := snapshot(t, file)
		err := mustOpen(t, "oci:"+file+":1").Put(bg, &Artifact{Image: randomImage(t)})
		if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "pick an empty or new folder") {
			t.Errorf("Put into a file: %v; want a refusal naming it", err)
		}
		if after := snapshot(t, file); after != before {
			t.Errorf("file changed by a refused Put")
		}
	})
}

// Reading a folder whose index.json is not an OCI index says so (not
// "holds 0 images"), with the same hint: wrap reads its target first.
func TestLayoutGetNonLayoutFolder(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"index.json": `{"name":"web","version":"1.0.0"}`})
	_, err := mustOpen(t, "oci:"+dir+":1").Get(bg)
	if err == nil || !strings.Contains(err.Error(), dir+" is not an OCI layout") || !strings.Contains(err.Error(), "pick an empty or new folder") {
		t.Errorf("Get: %v; want it to say %s is not an OCI layout", err, dir)
	}
}

// An empty folder, a missing one and one holding only an oci-layout file
// (a layout whose creation was cut short) all take a new layout.
func TestLayoutPutNewLayoutFolders(t *testing.T) {
	for name, setup := range map[string]func(dir string){
		"missing": func(string) {},
		"empty":   func(dir string) { os.Mkdir(dir, 0o755) },
		"only oci-layout": func(dir string) {
			writeFiles(t, dir, map[string]string{"oci-layout": ociLayoutFile})
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			setup(dir)
			img := randomImage(t)
			putLayout(t, "oci:"+dir+":1", &Artifact{Image: img})
			if tagsOf(readIndexJSON(t, dir))["1"] != digestOf(t, img) {
				t.Error("tag missing after Put")
			}
		})
	}
}

// An oci-archive whose content is not an OCI layout (a tar of a web
// project's index.json) is refused as a target and left as it was.
func TestArchivePutRefusesNonLayoutArchive(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(t *testing.T, file string)
		want  []string
	}{
		{"tar of a web project", func(t *testing.T, file string) {
			writeTar(t, file, []tarEntry{{name: "index.json", body: `{"name":"web","version":"1.0.0"}`}})
		}, []string{"is not an OCI layout archive", "pick a new file, or an existing OCI archive"}},
		{"not a tar", func(t *testing.T, file string) {
			if err := os.WriteFile(file, []byte(`{"name":"web","version":"1.0.0"}`), 0o644); err != nil {
				t.Fatal(err)
			}
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "web.tar")
			tc.write(t, file)
			before, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			err = mustOpen(t, "oci-archive:"+file+":1").Put(bg, &Artifact{Image: randomImage(t)})
			if err == nil {
				t.Fatal("Put into an archive that is not an OCI layout succeeded")
			}
			t.Log(err)
			for _, w := range append([]string{file}, tc.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if after, _ := os.ReadFile(file); !bytes.Equal(before, after) {
				t.Error("archive rewritten by a refused Put")
			}
		})
	}
}
