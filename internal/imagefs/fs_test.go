package imagefs

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/jbuild-dev/jbuild/buildplan"
)

var _ buildplan.ImageFS = (*FS)(nil)

// ent is one tar entry of a test layer.
type ent struct {
	name string
	typ  byte
	mode int64
	body string
	link string
}

func dir(name string) ent        { return ent{name: name, typ: tar.TypeDir, mode: 0o755} }
func file(name, body string) ent { return ent{name: name, typ: tar.TypeReg, mode: 0o644, body: body} }
func exe(name, body string) ent  { return ent{name: name, typ: tar.TypeReg, mode: 0o755, body: body} }
func symlink(name, target string) ent {
	return ent{name: name, typ: tar.TypeSymlink, mode: 0o777, link: target}
}
func hardlink(name, target string) ent {
	return ent{name: name, typ: tar.TypeLink, mode: 0o644, link: target}
}
func whiteout(p string) ent { return file(p, "") }

func tarBytes(t testing.TB, entries []ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, Format: tar.FormatPAX}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// countingLayer counts how often its content is opened.
type countingLayer struct {
	v1.Layer
	uncompressed *atomic.Int32
	compressed   *atomic.Int32
}

func (c countingLayer) Uncompressed() (io.ReadCloser, error) {
	c.uncompressed.Add(1)
	return c.Layer.Uncompressed()
}

func (c countingLayer) Compressed() (io.ReadCloser, error) {
	c.compressed.Add(1)
	return c.Layer.Compressed()
}

func newLayer(t testing.TB, entries []ent) countingLayer {
	t.Helper()
	data := tarBytes(t, entries)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return countingLayer{Layer: l, uncompressed: new(atomic.Int32), compressed: new(atomic.Int32)}
}

func imageOf(t testing.TB, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

var keep = []string{"/etc/passwd", "/etc/group", "/etc/*-release", "/usr/lib/os-release", "/big"}

// threeLayers is a small distro-like image exercising every layer rule.
func threeLayers(t testing.TB) (v1.Image, []countingLayer) {
	t.Helper()
	l1 := newLayer(t, []ent{
		dir("etc/"),
		file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
		file("etc/hostname", "lower\n"),
		file("etc/old.conf", "old"),
		file("etc/revived", "first"),
		dir("bin/"),
		exe("bin/sh", "#!shell"),
		dir("opt/"),
		dir("opt/app/"),
		file("opt/app/lower.txt", "lower"),
		dir("opt/app/sub/"),
		file("opt/app/sub/deep.txt", "deep"),
		dir("opt/gone/"),
		file("opt/gone/x", "x"),
		dir("data/"),
		file("data/inside", "x"),
		dir("usr/"),
		dir("usr/bin/"),
		exe("usr/bin/java", "old java"),
		dir("usr/lib/"),
		file("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n"),
		dir("usr/lib/jvm/"),
		dir("usr/lib/jvm/java-17/"),
		dir("usr/lib/jvm/java-17/bin/"),
		exe("usr/lib/jvm/java-17/bin/java", "ELF java 17"),
	})
	l2 := newLayer(t, []ent{
		file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
		whiteout("etc/.wh.old.conf"),
		whiteout("etc/.wh.revived"),
		symlink("etc/os-release", "../usr/lib/os-release"),
		hardlink("etc/passwd-hl", "etc/passwd"),
		dir("opt/app/"),
		file("opt/app/before.txt", "written before the opaque marker"),
		whiteout("opt/app/.wh..wh..opq"),
		file("opt/app/after.txt", "written after the opaque marker"),
		// usr/bin/java becomes a relative symlink; chains through
		// /etc/alternatives with absolute links, like Debian.
		symlink("usr/bin/java", "../lib/jvm/java-17/bin/java"),
		dir("etc/alternatives/"),
		symlink("etc/alternatives/java", "/usr/lib/jvm/java-17/bin/java"),
		dir("usr/local/"),
		dir("usr/local/bin/"),
		symlink("usr/local/bin/java", "/etc/alternatives/java"),
		symlink("escape", "../../../etc/passwd"),
		symlink("abs-escape", "/../../etc/passwd"),
		symlink("loop1", "loop2"),
		symlink("loop2", "loop1"),
		symlink("self", "self"),
		symlink("dangling", "/nowhere"),
		symlink("applink", "opt/app"),
		symlink("dirs", "opt"),
	})
	l3 := newLayer(t, []ent{
		file("etc/group", "root:x:0:\napp:x:1000:\n"),
		file("etc/revived", "second"),
		whiteout("opt/.wh.gone"),
		file("data", "a file where a directory was"),
		hardlink("usr/bin/sh2", "bin/sh"), // target in a lower layer
		file("big", strings.Repeat("b", 100)),
	})
	return imageOf(t, l1, l2, l3), []countingLayer{l1, l2, l3}
}

func TestLazyAndReadOnce(t *testing.T) {
	img, layers := threeLayers(t)
	f := New(img, "test image", keep)
	if f.Scanned() || f.LayersRead != 0 {
		t.Fatal("scanned before any call")
	}
	for i, l := range layers {
		if n := l.compressed.Load(); n != 0 {
			t.Errorf("layer %d read %d times before the first call", i+1, n)
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ { // concurrent first questions still scan once
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.Stat("/etc/passwd"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	f.ReadDir("/")
	f.ReadFile("/etc/passwd", -1)
	f.Stat("/nope")
	if !f.Scanned() || f.LayersRead != 3 {
		t.Errorf("Scanned %v, LayersRead %d", f.Scanned(), f.LayersRead)
	}
	for i, l := range layers {
		if n := l.compressed.Load(); n != 1 {
			t.Errorf("layer %d read %d times, want exactly 1", i+1, n)
		}
		if n := l.uncompressed.Load(); n != 0 {
			t.Errorf("layer %d decompressed by go-containerregistry %d times, want 0 (imagefs decompresses the blob it reads)", i+1, n)
		}
	}
}

func TestLayerRules(t *testing.T) {
	img, _ := threeLayers(t)
	f := New(img, "test image", keep)
	exists := []string{
		"/", "/etc", "/etc/passwd", "/etc/hostname", "/etc/group", "/etc/revived",
		"/opt/app", "/opt/app/before.txt", "/opt/app/after.txt",
		"/usr/bin/sh2", "/data", "/bin/sh",
	}
	for _, p := range exists {
		if _, err := f.Stat(p); err != nil {
			t.Errorf("Stat(%s): %v", p, err)
		}
	}
	gone := []string{
		"/etc/old.conf",      // .wh. whiteout
		"/opt/app/lower.txt", // hidden by the opaque dir
		"/opt/app/sub",       // a lower directory under the opaque dir
		"/opt/app/sub/deep.txt",
		"/opt/gone", "/opt/gone/x", // whiteout of a directory removes its children
		"/data/inside", // a file replaced the directory
		"/nope",
		"/etc/passwd/x",
	}
	for _, p := range gone {
		_, err := f.Stat(p)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%s): %v, want ErrNotExist", p, err)
		}
	}
	// Whiteout markers themselves are never visible.
	for _, p := range []string{"/etc/.wh.old.conf", "/opt/app/.wh..wh..opq", "/opt/.wh.gone"} {
		if _, err := f.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("whiteout marker %s visible: %v", p, err)
		}
	}

	fi, err := f.Stat("/data")
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len("a file where a directory was")) {
		t.Errorf("/data = %v, %v", fi, err)
	}
	// Overwritten file: the upper content, size and kept content.
	b, err := f.ReadFile("/etc/passwd", -1)
	if err != nil || !strings.Contains(string(b), "app:x:1000") {
		t.Errorf("ReadFile(/etc/passwd) = %q, %v", b, err)
	}
	fi, _ = f.Stat("/etc/passwd")
	if fi.Size() != int64(len(b)) || fi.Name() != "passwd" || fi.IsDir() || fi.Sys() != (Owner{}) || !fi.ModTime().IsZero() {
		t.Errorf("Stat(/etc/passwd) = name %q size %d", fi.Name(), fi.Size())
	}
	// Deleted, then added again in a higher layer.
	if fi, err := f.Stat("/etc/revived"); err != nil || fi.Size() != int64(len("second")) {
		t.Errorf("/etc/revived = %v, %v", fi, err)
	}
	// Hard links: same entry as the target (mode, size, content).
	sh, _ := f.Stat("/bin/sh")
	sh2, err := f.Stat("/usr/bin/sh2")
	if err != nil || sh2.Mode() != sh.Mode() || sh2.Size() != sh.Size() || sh2.Mode().Perm() != 0o755 {
		t.Errorf("hard link /usr/bin/sh2 = %v, %v; target %v", sh2, err, sh)
	}
	if hl, err := f.ReadFile("/etc/passwd-hl", -1); err != nil || !bytes.Equal(hl, b) {
		t.Errorf("hard link to a kept file: %q, %v", hl, err)
	}
	if fi, _ := f.Stat("/"); !fi.IsDir() {
		t.Error("/ is not a directory")
	}
}

func TestSymlinks(t *testing.T) {
	img, _ := threeLayers(t)
	f := New(img, "test image", keep)
	for _, tc := range []struct {
		path, name string
		perm       fs.FileMode
		size       int
	}{
		{"/usr/bin/java", "java", 0o755, len("ELF java 17")},                                // relative
		{"/etc/alternatives/java", "java", 0o755, len("ELF java 17")},                       // absolute
		{"/usr/local/bin/java", "java", 0o755, len("ELF java 17")},                          // chain
		{"/dirs/app/after.txt", "after.txt", 0o644, len("written after the opaque marker")}, // link in a middle component
		{"/applink/../applink/before.txt", "before.txt", 0o644, len("written before the opaque marker")},
	} {
		fi, err := f.Stat(tc.path)
		if err != nil {
			t.Errorf("Stat(%s): %v", tc.path, err)
			continue
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm() != tc.perm || fi.Name() != tc.name || fi.Size() != int64(tc.size) {
			t.Errorf("Stat(%s) = %s %v %d", tc.path, fi.Name(), fi.Mode(), fi.Size())
		}
	}

	// A link pointing above the root resolves inside the image: to the
	// image's /etc/passwd, never the host's.
	want, _ := f.ReadFile("/etc/passwd", -1)
	for _, p := range []string{"/escape", "/abs-escape", "../../escape", "/opt/../../../escape"} {
		b, err := f.ReadFile(p, -1)
		if err != nil || !bytes.Equal(b, want) {
			t.Errorf("ReadFile(%s) = %q, %v; want the image's /etc/passwd", p, b, err)
		}
	}
	// Content kept under the link target's path.
	if b, err := f.ReadFile("/etc/os-release", -1); err != nil || !strings.HasPrefix(string(b), "ID=debian") {
		t.Errorf("ReadFile through /etc/os-release link = %q, %v", b, err)
	}

	for _, p := range []string{"/loop1", "/loop2", "/self", "/loop1/x"} {
		_, err := f.Stat(p)
		if err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
			t.Errorf("Stat(%s) = %v, want a symlink loop error", p, err)
		}
		if _, err := f.ReadFile(p, 10); err == nil {
			t.Errorf("ReadFile(%s): no error", p)
		}
	}
	if _, err := f.Stat("/dangling"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dangling link: %v, want ErrNotExist", err)
	}
	// ReadDir lists a link as a link, without following it.
	entries, _ := f.ReadDir("/usr/bin")
	for _, e := range entries {
		if e.Name() == "java" && e.Type() != fs.ModeSymlink {
			t.Errorf("ReadDir shows /usr/bin/java as %v", e.Type())
		}
	}
}

func names(entries []fs.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestReadDir(t *testing.T) {
	img, _ := threeLayers(t)
	f := New(img, "test image", keep)
	for p, want := range map[string][]string{
		"/":        {"abs-escape", "applink", "big", "bin", "dangling", "data", "dirs", "escape", "etc", "loop1", "loop2", "opt", "self", "usr"},
		"/etc":     {"alternatives", "group", "hostname", "os-release", "passwd", "passwd-hl", "revived"},
		"/opt":     {"app"},
		"/opt/app": {"after.txt", "before.txt"},
		"/applink": {"after.txt", "before.txt"}, // a link to a directory lists the directory
		"/usr/bin": {"java", "sh2"},
	} {
		entries, err := f.ReadDir(p)
		if err != nil {
			t.Errorf("ReadDir(%s): %v", p, err)
			continue
		}
		if got := names(entries); !reflect.DeepEqual(got, want) {
			t.Errorf("ReadDir(%s) = %v, want %v", p, got, want)
		}
	}
	entries, _ := f.ReadDir("/etc")
	for _, e := range entries {
		switch e.Name() {
		case "alternatives":
			if !e.IsDir() {
				t.Errorf("/etc/alternatives not a dir")
			}
		case "passwd":
			info, err := e.Info()
			if err != nil || info.Size() == 0 || e.IsDir() || !e.Type().IsRegular() {
				t.Errorf("/etc/passwd entry %v", info)
			}
		}
	}
	if _, err := f.ReadDir("/etc/passwd"); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("ReadDir of a file: %v", err)
	}
	if _, err := f.ReadDir("/opt/gone"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadDir of a removed dir: %v", err)
	}
}

func TestReadFileKeptOnly(t *testing.T) {
	img, _ := threeLayers(t)
	f := New(img, "test image", keep)
	// Not a kept pattern: a clear error, not empty content.
	for _, p := range []string{"/etc/hostname", "/usr/bin/java", "/bin/sh"} {
		b, err := f.ReadFile(p, -1)
		if err == nil || !strings.Contains(err.Error(), "content not retained") {
			t.Errorf("ReadFile(%s) = %q, %v; want a not-retained error", p, b, err)
		}
	}
	if _, err := f.ReadFile("/etc", -1); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("ReadFile of a directory: %v", err)
	}
	if _, err := f.ReadFile("/etc/old.conf", -1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFile of a deleted file: %v", err)
	}
	// Glob patterns.
	g := New(img, "test image", []string{"/etc/*"})
	if b, err := g.ReadFile("/etc/hostname", -1); err != nil || string(b) != "lower\n" {
		t.Errorf("ReadFile with /etc/* kept: %q, %v", b, err)
	}
	if _, err := g.ReadFile("/etc/alternatives/java", -1); err == nil {
		t.Error("/etc/* kept a file two levels down")
	}
	// Nothing kept.
	if _, err := New(img, "x", nil).ReadFile("/etc/passwd", -1); err == nil {
		t.Error("content returned with no kept patterns")
	}
}

func TestReadFileLimit(t *testing.T) {
	img, _ := threeLayers(t)
	f := New(img, "test image", keep)
	for _, tc := range []struct {
		limit int64
		want  int
	}{{-1, 100}, {0, 0}, {1, 1}, {50, 50}, {100, 100}, {1000, 100}} {
		b, err := f.ReadFile("/big", tc.limit)
		if err != nil || len(b) != tc.want {
			t.Errorf("ReadFile(/big, %d) = %d bytes, %v; want %d", tc.limit, len(b), err, tc.want)
		}
	}
	// Truncation does not change what a later call sees.
	f.ReadFile("/big", 3)
	if b, _ := f.ReadFile("/big", -1); len(b) != 100 {
		t.Errorf("after a limited read the file has %d bytes", len(b))
	}
}

func TestLargeFileNotKept(t *testing.T) {
	big := strings.Repeat("x", maxContent+1)
	img := imageOf(t, newLayer(t, []ent{dir("etc/"), file("etc/passwd", big)}))
	f := New(img, "test image", keep)
	fi, err := f.Stat("/etc/passwd")
	if err != nil || fi.Size() != int64(len(big)) {
		t.Fatalf("Stat: %v", err)
	}
	if _, err := f.ReadFile("/etc/passwd", 10); err == nil {
		t.Error("content of a file above maxContent was kept")
	}
}

func TestLayerErrors(t *testing.T) {
	good := newLayer(t, []ent{file("a", "a")})
	bad := brokenLayer{newLayer(t, []ent{file("b", "b")})}
	img := imageOf(t, good, bad)
	f := New(img, "my/image:1", nil)
	_, err := f.Stat("/a")
	if err == nil || !errors.Is(err, errBroken) || !strings.Contains(err.Error(), "layer 2") || !strings.Contains(err.Error(), "my/image:1") {
		t.Fatalf("Stat over a broken layer: %v", err)
	}
	// The scan reads a failing layer readAttempts times (a download cut
	// short is read again); then the error sticks, and later calls do not
	// read it again.
	if _, err2 := f.ReadDir("/"); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("second call: %v", err2)
	}
	if n := bad.compressed.Load(); n != readAttempts {
		t.Errorf("broken layer opened %d times, want %d", n, readAttempts)
	}

	// A hard link to nothing.
	img = imageOf(t, newLayer(t, []ent{hardlink("x", "missing")}))
	if _, err := New(img, "img", nil).Stat("/"); err == nil || !strings.Contains(err.Error(), "hard link x points at missing missing") {
		t.Errorf("dangling hard link: %v", err)
	}
	// A truncated tar.
	data := tarBytes(t, []ent{file("a", strings.Repeat("a", 2000))})
	trunc, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data[:1000])), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(imageOf(t, trunc), "img", []string{"/a"}).Stat("/a"); err == nil {
		t.Error("truncated layer accepted")
	}
}

var errBroken = errors.New("layer download failed (test)")

type brokenLayer struct{ countingLayer }

func (b brokenLayer) Compressed() (io.ReadCloser, error) {
	b.compressed.Add(1)
	return nil, errBroken
}

// Opaque and whiteout markers at the root must not remove the root itself.
func TestRootWhiteouts(t *testing.T) {
	l1 := newLayer(t, []ent{dir("./"), dir("etc/"), file("etc/passwd", "lower"), file("top", "t")})
	l2 := newLayer(t, []ent{file(".wh..wh..opq", ""), dir("etc/"), file("etc/group", "upper")})
	f := New(imageOf(t, l1, l2), "img", keep)
	fi, err := f.Stat("/")
	if err != nil || !fi.IsDir() {
		t.Fatalf("Stat(/) after a root opaque marker: %v, %v", fi, err)
	}
	if got := names(mustReadDir(t, f, "/")); !reflect.DeepEqual(got, []string{"etc"}) {
		t.Errorf("ReadDir(/) = %v, want [etc]", got)
	}
	if _, err := f.Stat("/etc/passwd"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lower /etc/passwd under an opaque root: %v", err)
	}
	if b, err := f.ReadFile("/etc/group", -1); err != nil || string(b) != "upper" {
		t.Errorf("/etc/group = %q, %v", b, err)
	}

	// A whiteout with an empty name hides nothing (at the root or below).
	l3 := newLayer(t, []ent{file(".wh.", ""), file("etc/.wh.", "")})
	f = New(imageOf(t, l1, l3), "img", nil)
	if fi, err := f.Stat("/"); err != nil || !fi.IsDir() {
		t.Fatalf("Stat(/) after a .wh. entry: %v, %v", fi, err)
	}
	if got := names(mustReadDir(t, f, "/")); !reflect.DeepEqual(got, []string{"etc", "top"}) {
		t.Errorf("ReadDir(/) after .wh. entries = %v, want [etc top]", got)
	}
	if _, err := f.Stat("/etc/passwd"); err != nil {
		t.Errorf("/etc/passwd after etc/.wh.: %v", err)
	}
}

func mustReadDir(t testing.TB, f *FS, p string) []fs.DirEntry {
	t.Helper()
	e, err := f.ReadDir(p)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Layers written by common tools: "./"-prefixed names, implicit parent
// directories, a directory entry re-declared by an upper layer.
func TestNamesAndParents(t *testing.T) {
	l1 := newLayer(t, []ent{dir("./"), dir("./usr/"), file("./usr/share/doc/x/README", "r")})
	l2 := newLayer(t, []ent{{name: "usr/", typ: tar.TypeDir, mode: 0o700}})
	f := New(imageOf(t, l1, l2), "img", nil)
	for _, p := range []string{"/usr/share", "/usr/share/doc/x"} {
		if fi, err := f.Stat(p); err != nil || !fi.IsDir() {
			t.Errorf("implicit parent %s: %v, %v", p, fi, err)
		}
	}
	fi, err := f.Stat("/usr")
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("/usr re-declared 0700: %v, %v", fi, err)
	}
	if _, err := f.Stat("/usr/share/doc/x/README"); err != nil {
		t.Errorf("children kept when the upper layer re-declares the directory: %v", err)
	}
	if got := names(mustReadDir(t, f, "/usr/share/doc")); !reflect.DeepEqual(got, []string{"x"}) {
		t.Errorf("ReadDir = %v", got)
	}
}

func TestSymlinkHopLimit(t *testing.T) {
	// A chain of exactly maxSymlinkHops links resolves; one more does not.
	var ents []ent
	for i := 0; i < maxSymlinkHops+1; i++ {
		ents = append(ents, symlink(fmt.Sprintf("l%d", i), fmt.Sprintf("l%d", i+1)))
	}
	ents = append(ents, file(fmt.Sprintf("l%d", maxSymlinkHops+1), "end"))
	f := New(imageOf(t, newLayer(t, ents)), "img", nil)
	if _, err := f.Stat("/l1"); err != nil {
		t.Errorf("chain of %d links: %v", maxSymlinkHops, err)
	}
	if _, err := f.Stat("/l0"); err == nil {
		t.Errorf("chain of %d links resolved", maxSymlinkHops+1)
	}
}

// A layer is read once per cache: a second FS over an image with the same
// layers (and a new one on top, as a CI build makes) reads only the new
// layer and answers the same.
func TestLayerCache(t *testing.T) {
	dir := t.TempDir()
	base := newLayer(t, []ent{file("etc/passwd", "app:x:1000:1000::/home/app:/bin/sh\n"), file("opt/x", "x")})
	app1 := newLayer(t, []ent{file("app/app.jar", "1")})
	keep := []string{"/etc/passwd"}

	f := New(imageOf(t, base, app1), "one", keep, WithCache(dir, DefaultCacheMax))
	if _, err := f.Stat("/opt/x"); err != nil {
		t.Fatal(err)
	}
	if f.LayersRead != 2 {
		t.Fatalf("first scan read %d layers, want 2", f.LayersRead)
	}
	app2 := newLayer(t, []ent{file("app/app.jar", "2")})
	g := New(imageOf(t, base, app2), "two", keep, WithCache(dir, DefaultCacheMax))
	b, err := g.ReadFile("/etc/passwd", -1)
	if err != nil || !strings.Contains(string(b), "app:x:1000") {
		t.Fatalf("passwd from the cache: %q, %v", b, err)
	}
	if g.LayersRead != 1 {
		t.Errorf("second scan read %d layers, want 1 (only the new app layer)", g.LayersRead)
	}
	// Other kept files: the cached entry does not have them, so it is not used.
	h := New(imageOf(t, base), "three", []string{"/opt/x"}, WithCache(dir, DefaultCacheMax))
	if b, err := h.ReadFile("/opt/x", -1); err != nil || string(b) != "x" || h.LayersRead != 1 {
		t.Errorf("other patterns: %q, %v, read %d layers", b, err, h.LayersRead)
	}
	// A damaged entry is read again, not trusted (by a new process: this
	// one remembers what it decoded).
	decoded.Clear()
	entries, _ := filepath.Glob(filepath.Join(dir, "*.json.gz"))
	for _, e := range entries {
		os.WriteFile(e, []byte("not gzip"), 0o644)
	}
	k := New(imageOf(t, base, app2), "four", keep, WithCache(dir, DefaultCacheMax))
	if _, err := k.ReadFile("/etc/passwd", -1); err != nil || k.LayersRead != 2 {
		t.Errorf("damaged cache: %v, read %d layers, want 2", err, k.LayersRead)
	}
}

// flakyLayer fails its first read, as a download cut short does.
type flakyLayer struct{ countingLayer }

func (f flakyLayer) Compressed() (io.ReadCloser, error) {
	if f.compressed.Add(1) == 1 {
		return nil, errBroken
	}
	return f.Layer.Compressed()
}

func TestLayerReadAgainAfterACutDownload(t *testing.T) {
	l := flakyLayer{newLayer(t, []ent{file("a", "a")})}
	f := New(imageOf(t, l), "img", nil)
	if _, err := f.Stat("/a"); err != nil {
		t.Fatalf("a layer whose first read failed: %v", err)
	}
	if n := l.compressed.Load(); n != 2 {
		t.Errorf("read %d times, want 2", n)
	}
}

// Scans of images on one base at the same time read the base layer once.
func TestConcurrentScansReadALayerOnce(t *testing.T) {
	dir := t.TempDir()
	base := newLayer(t, []ent{file("etc/passwd", "root:x:0:0::/root:/bin/sh\n")})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			app := newLayer(t, []ent{file("app/app.jar", fmt.Sprint(i))})
			f := New(imageOf(t, base, app), "img", []string{"/etc/passwd"}, WithCache(dir, DefaultCacheMax))
			if _, err := f.ReadFile("/etc/passwd", -1); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := base.compressed.Load(); n != 1 {
		t.Errorf("the shared base layer was read %d times by 4 concurrent scans, want 1", n)
	}
}

// Layers are read side by side: each layer's read waits (up to a bound)
// until another one is open too, so reading one after another is seen.
func TestLayersReadSideBySide(t *testing.T) {
	var open, most atomic.Int32
	both := make(chan struct{})
	var once sync.Once
	layer := func(name string) v1.Layer {
		return gateLayer{countingLayer: newLayer(t, []ent{file(name, name)}), open: &open, most: &most, both: both, once: &once}
	}
	f := New(imageOf(t, layer("a"), layer("b"), layer("c")), "img", nil)
	if _, err := f.Stat("/c"); err != nil {
		t.Fatal(err)
	}
	if n := most.Load(); n < 2 {
		t.Errorf("at most %d layer read at a time, want them side by side", n)
	}
	for _, p := range []string{"/a", "/b", "/c"} {
		if _, err := f.Stat(p); err != nil {
			t.Errorf("%s: %v (the layers must still all apply)", p, err)
		}
	}
}

type gateLayer struct {
	countingLayer
	open, most *atomic.Int32
	both       chan struct{}
	once       *sync.Once
}

func (g gateLayer) Compressed() (io.ReadCloser, error) {
	n := g.open.Add(1)
	defer g.open.Add(-1)
	for m := g.most.Load(); n > m && !g.most.CompareAndSwap(m, n); m = g.most.Load() {
	}
	if n >= 2 {
		g.once.Do(func() { close(g.both) })
	}
	select {
	case <-g.both:
	case <-time.After(2 * time.Second):
	}
	return g.countingLayer.Compressed()
}

// TestDownloadStartCalledOnceOnlyForDownloads: the hook runs once when a
// scan reads layers from their source, never when the cache answers.
func TestDownloadStartCalledOnceOnlyForDownloads(t *testing.T) {
	dir := t.TempDir()
	base := newLayer(t, []ent{file("etc/passwd", "app:x:1000:1000::/home/app:/bin/sh\n")})
	app := newLayer(t, []ent{file("app/app.jar", "1")})
	var calls int
	hook := WithDownloadStart(func() { calls++ })
	f := New(imageOf(t, base, app), "one", nil, WithCache(dir, DefaultCacheMax), hook)
	if _, err := f.Stat("/etc/passwd"); err != nil {
		t.Fatal(err)
	}
	if calls != 1 || f.LayersRead != 2 {
		t.Fatalf("first scan: hook called %d times for %d layers read, want once", calls, f.LayersRead)
	}
	calls = 0
	g := New(imageOf(t, base, app), "two", nil, WithCache(dir, DefaultCacheMax), hook)
	if _, err := g.Stat("/etc/passwd"); err != nil {
		t.Fatal(err)
	}
	if calls != 0 || g.LayersRead != 0 {
		t.Errorf("scan from the cache: hook called %d times, %d layers read, want none", calls, g.LayersRead)
	}
}

// TestLayerCacheDecodedOncePerProcess: a layer's entry, once read or
// written, is not decoded again in this process (`wrap -f` plans many
// images on one base): the next scan finds it even when the file is gone.
func TestLayerCacheDecodedOncePerProcess(t *testing.T) {
	dir := t.TempDir()
	base := newLayer(t, []ent{file("etc/passwd", "app:x:1000:1000::/home/app:/bin/sh\n")})
	keep := []string{"/etc/passwd"}
	f := New(imageOf(t, base), "one", keep, WithCache(dir, DefaultCacheMax))
	if _, err := f.ReadFile("/etc/passwd", -1); err != nil || f.LayersRead != 1 {
		t.Fatalf("first scan: %v, %d layers read", err, f.LayersRead)
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "*.json.gz"))
	if len(entries) != 1 {
		t.Fatalf("cache entries %v, want 1", entries)
	}
	os.Remove(entries[0])
	g := New(imageOf(t, base), "two", keep, WithCache(dir, DefaultCacheMax))
	b, err := g.ReadFile("/etc/passwd", -1)
	if err != nil || !strings.Contains(string(b), "app:x:1000") || g.LayersRead != 0 {
		t.Errorf("second scan: %q, %v, %d layers read; want the remembered entry", b, err, g.LayersRead)
	}
}
