package transport

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/validate"
)

func TestArchiveRoundTrip(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.tar")
	img := randomImage(t)
	base := randomImage(t)

	st := mustOpen(t, "oci-archive:"+file+":1.0")
	if _, err := st.Get(bg); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a missing archive: %v, want ErrNotFound", err)
	}
	if err := st.Put(bg, &Artifact{Image: img}, &Artifact{Image: base}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("archive mode %v, want 0644", fi.Mode().Perm())
	}

	// Only layout files, sorted, no directories.
	names := readTarNames(t, file)
	if !sort.StringsAreSorted(names) {
		t.Errorf("entries not sorted: %v", names)
	}
	for _, n := range names {
		if !validLayoutName(n) || strings.HasSuffix(n, "/") {
			t.Errorf("unexpected entry %q", n)
		}
	}
	for _, want := range []string{"oci-layout", "index.json", "blobs/sha256/" + digestOf(t, img).Hex, "blobs/sha256/" + digestOf(t, base).Hex} {
		if !contains(names, want) {
			t.Errorf("archive lacks %s: %v", want, names)
		}
	}

	st2 := mustOpen(t, "oci-archive:"+file+":1.0")
	a, err := st2.Get(bg)
	if err != nil {
		t.Fatal(err)
	}
	if artifactDigest(t, a) != digestOf(t, img) {
		t.Errorf("Get gave %s, want %s", artifactDigest(t, a), digestOf(t, img))
	}
	if err := validate.Image(a.Image); err != nil {
		t.Errorf("image from archive does not validate: %v", err)
	}
	k, err := st2.GetDigest(bg, digestOf(t, base))
	if err != nil || artifactDigest(t, k) != digestOf(t, base) {
		t.Errorf("GetDigest(kept base) = %v, %v", k, err)
	}
	// Without a tag: the one image in the archive.
	if a, err := mustOpen(t, "oci-archive:"+file).Get(bg); err != nil || artifactDigest(t, a) != digestOf(t, img) {
		t.Errorf("Get without tag: %v", err)
	}
	if _, err := mustOpen(t, "oci-archive:"+file+":nope").Get(bg); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing tag: %v, want ErrNotFound", err)
	}

	// Close removes the extracted layout.
	as := st2.(*archiveStore)
	tmp := as.tmp
	if tmp == "" {
		t.Fatal("no extracted layout after Get")
	}
	if err := st2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("extracted layout %s still there after Close: %v", tmp, err)
	}
	if err := st2.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestArchiveDeterministic(t *testing.T) {
	dir := t.TempDir()
	img := randomImage(t)
	a, b := filepath.Join(dir, "a.tar"), filepath.Join(dir, "b.tar")
	for _, f := range []string{a, b} {
		if err := mustOpen(t, "oci-archive:"+f+":x").Put(bg, &Artifact{Image: img}); err != nil {
			t.Fatal(err)
		}
	}
	ba, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ba, bb) {
		t.Error("the same image written twice gives different archive bytes")
	}
}

func TestArchivePutKeepsOtherTags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "multi.tar")
	one, two, idx := randomImage(t), randomImage(t), randomIndex(t)
	if err := mustOpen(t, "oci-archive:"+file+":one").Put(bg, &Artifact{Image: one}); err != nil {
		t.Fatal(err)
	}
	if err := mustOpen(t, "oci-archive:"+file+":two").Put(bg, &Artifact{Image: two}); err != nil {
		t.Fatal(err)
	}
	if err := mustOpen(t, "oci-archive:"+file+":idx").Put(bg, &Artifact{Index: idx}); err != nil {
		t.Fatal(err)
	}
	moved := randomImage(t)
	if err := mustOpen(t, "oci-archive:"+file+":one").Put(bg, &Artifact{Image: moved}); err != nil {
		t.Fatal(err)
	}
	check := map[string]string{
		"one": digestOf(t, moved).String(),
		"two": digestOf(t, two).String(),
		"idx": digestOf(t, idx).String(),
	}
	for tag, want := range check {
		a, err := mustOpen(t, "oci-archive:"+file+":"+tag).Get(bg)
		if err != nil {
			t.Fatalf("tag %s: %v", tag, err)
		}
		if got := artifactDigest(t, a).String(); got != want {
			t.Errorf("tag %s = %s, want %s", tag, got, want)
		}
	}
	if a, _ := mustOpen(t, "oci-archive:"+file+":idx").Get(bg); a == nil || a.Index == nil {
		t.Error("idx tag is not read back as an index")
	}
	_, err := mustOpen(t, "oci-archive:"+file).Get(bg)
	if err == nil || !strings.Contains(err.Error(), "holds 3 images") {
		t.Errorf("Get without tag on a 3-image archive: %v", err)
	}
}

// validLayout is a real (tiny) layout's entries, to put hostile entries
// next to.
func validLayoutEntries(t *testing.T) []tarEntry {
	t.Helper()
	src := filepath.Join(t.TempDir(), "ok.tar")
	if err := mustOpen(t, "oci-archive:"+src+":ok").Put(bg, &Artifact{Image: randomImage(t)}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []tarEntry
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		var buf bytes.Buffer
		buf.ReadFrom(tr)
		out = append(out, tarEntry{name: h.Name, body: buf.String()})
	}
	return out
}

func TestArchiveHostile(t *testing.T) {
	valid := validLayoutEntries(t)
	for _, tc := range []struct {
		name  string
		entry tarEntry
		want  string
	}{
		{"parent traversal", tarEntry{name: "../x", body: "x"}, `"../x"`},
		{"traversal inside blobs", tarEntry{name: "blobs/sha256/../../../x", body: "x"}, `"blobs/sha256/../../../x"`},
		{"absolute path", tarEntry{name: "/etc/passwd", body: "root::0:0"}, `"/etc/passwd"`},
		{"absolute blob path", tarEntry{name: "/blobs/sha256/abc", body: "x"}, `"/blobs/sha256/abc"`},
		{"unexpected file", tarEntry{name: "etc/passwd", body: "root::0:0"}, `"etc/passwd"`},
		{"too deep", tarEntry{name: "blobs/sha256/a/b", body: "x"}, `"blobs/sha256/a/b"`},
		{"symlink entry", tarEntry{name: "blobs/sha256/evil", typ: tar.TypeSymlink, linkname: "/etc/shadow"}, `"blobs/sha256/evil"`},
		{"hardlink entry", tarEntry{name: "blobs/sha256/hl", typ: tar.TypeLink, linkname: "oci-layout"}, `"blobs/sha256/hl"`},
		{"device entry", tarEntry{name: "blobs/sha256/dev", typ: tar.TypeChar}, `"blobs/sha256/dev"`},
		{"duplicate entry", tarEntry{name: "oci-layout", body: "{}"}, `"oci-layout"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "hostile.tar")
			// The hostile entry comes last, after a complete valid layout.
			writeTar(t, file, append(append([]tarEntry{}, valid...), tc.entry))
			before, _ := os.ReadFile(file)

			st := mustOpen(t, "oci-archive:"+file+":ok")
			for i := 0; i < 2; i++ { // a retry must fail the same way
				_, err := st.Get(bg)
				if err == nil {
					t.Fatalf("Get #%d of a hostile archive succeeded", i+1)
				}
				if errors.Is(err, ErrNotFound) {
					t.Errorf("hostile archive reported as not found: %v", err)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %q does not name the entry %s", err, tc.want)
				}
			}
			if _, err := st.GetDigest(bg, digestOf(t, randomImage(t))); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("GetDigest of a hostile archive: %v", err)
			}
			// Put into it fails too, and leaves it as it was.
			if err := st.Put(bg, &Artifact{Image: randomImage(t)}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Put into a hostile archive: %v", err)
			}
			after, _ := os.ReadFile(file)
			if !bytes.Equal(before, after) {
				t.Error("hostile archive rewritten")
			}
			// Nothing escaped next to the archive.
			for _, p := range []string{filepath.Join(dir, "x"), filepath.Join(filepath.Dir(dir), "x")} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s written outside the extraction directory", p)
				}
			}
			// The half-extracted layout is not kept around.
			if tmp := st.(*archiveStore).tmp; tmp != "" {
				t.Errorf("extracted layout %s kept after a failed read", tmp)
			}
		})
	}
}

func TestArchiveNotATar(t *testing.T) {
	file := filepath.Join(t.TempDir(), "junk.tar")
	if err := os.WriteFile(file, bytes.Repeat([]byte("junk"), 300), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := mustOpen(t, "oci-archive:"+file+":x").Get(bg)
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a non-tar file: %v", err)
	}
}

func TestArchiveMissingFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "none.tar")
	st := mustOpen(t, "oci-archive:"+file+":x")
	_, err := st.Get(bg)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), file) {
		t.Errorf("Get: %v, want ErrNotFound naming the file", err)
	}
	if _, err := st.GetDigest(bg, digestOf(t, randomImage(t))); !errors.Is(err, ErrNotFound) {
		t.Errorf("GetDigest: %v, want ErrNotFound", err)
	}
	// Get then Put on the same store (what wrap does for a new target).
	img := randomImage(t)
	if err := st.Put(bg, &Artifact{Image: img}); err != nil {
		t.Fatal(err)
	}
	if a, err := st.Get(bg); err != nil || artifactDigest(t, a) != digestOf(t, img) {
		t.Errorf("Get after Put on the same store: %v", err)
	}
	if _, err := os.Stat(file); err != nil {
		t.Error(err)
	}
}

func TestArchivePutAtomic(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.tar")
	orig := randomImage(t)
	if err := mustOpen(t, "oci-archive:"+file+":orig").Put(bg, &Artifact{Image: orig}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(bg)
	cancel()

	for _, tc := range []struct {
		name string
		ref  string
		ctx  context.Context
		a    *Artifact
		keep []*Artifact
		is   error
	}{
		{"cancelled context", ":new", cancelled, &Artifact{Image: randomImage(t)}, nil, context.Canceled},
		{"layer fails", ":new", bg, &Artifact{Image: imageWithBrokenLayer(t)}, nil, errBrokenLayer},
		{"kept layer fails", ":new", bg, &Artifact{Image: randomImage(t)}, []*Artifact{{Image: imageWithBrokenLayer(t)}}, errBrokenLayer},
		{"no tag", "", bg, &Artifact{Image: randomImage(t)}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := mustOpen(t, "oci-archive:"+file+tc.ref)
			err := st.Put(tc.ctx, tc.a, tc.keep...)
			if err == nil {
				t.Fatal("Put succeeded")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("Put: %v, want %v", err, tc.is)
			}
			after, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Error("archive changed by a failed Put")
			}
			if tf := tempFiles(t, dir); len(tf) != 0 {
				t.Errorf("temp files left: %v", tf)
			}
			if a, err := mustOpen(t, "oci-archive:"+file+":orig").Get(bg); err != nil || artifactDigest(t, a) != digestOf(t, orig) {
				t.Errorf("original tag after a failed Put: %v", err)
			}
		})
	}

	// A successful Put replaces the file by rename: a reader holding the
	// old file keeps reading the old bytes, and no temp file stays.
	old, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	oldInfo, _ := old.Stat()
	if err := mustOpen(t, "oci-archive:"+file+":new").Put(bg, &Artifact{Image: randomImage(t)}); err != nil {
		t.Fatal(err)
	}
	newInfo, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(oldInfo, newInfo) {
		t.Error("archive rewritten in place, not replaced by rename")
	}
	var buf bytes.Buffer
	buf.ReadFrom(old)
	if !bytes.Equal(buf.Bytes(), before) {
		t.Error("the old file's content changed under an open reader")
	}
	if tf := tempFiles(t, dir); len(tf) != 0 {
		t.Errorf("temp files left: %v", tf)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only app.tar", names)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
