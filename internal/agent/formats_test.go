package agent

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func bundleOf(t *testing.T, spec string, opts Options) *Bundle {
	t.Helper()
	src, err := Open(context.Background(), spec, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", spec, err)
	}
	if ps, err := src.Platforms(context.Background()); err != nil || ps != nil {
		t.Fatalf("Platforms(%s) = %v, %v; want nil", spec, ps, err)
	}
	b, err := src.Bundle(context.Background(), nil)
	if err != nil {
		t.Fatalf("Bundle(%s): %v", spec, err)
	}
	return b
}

// describe renders a bundle's file list and contents for comparison.
func describe(t *testing.T, b *Bundle) string {
	t.Helper()
	var sb strings.Builder
	for _, f := range b.Files {
		fmt.Fprintf(&sb, "%s %v %d %q", f.Path, f.Mode, f.Size, f.Link)
		if f.Mode.IsRegular() {
			rc, err := b.Open(f.Path)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(rc)
			rc.Close()
			fmt.Fprintf(&sb, " %q", data)
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

func TestSameDigestFromEveryFormat(t *testing.T) {
	files := sampleAgent()
	tmp := t.TempDir()
	opts := Options{CacheDir: filepath.Join(tmp, "cache")}
	writeTree(t, filepath.Join(tmp, "tree"), files)
	specs := map[string]string{
		"dir":          filepath.Join(tmp, "tree", "agent.java"),
		"parent dir":   filepath.Join(tmp, "tree"),
		"zip":          writeFile(t, tmp, "agent.zip", makeZip(t, files, false)),
		"zip no dirs":  writeFile(t, tmp, "agent-nodirs.zip", makeZip(t, files, true)),
		"tgz":          writeFile(t, tmp, "agent.tgz", makeTar(t, files, true)),
		"tar":          writeFile(t, tmp, "agent.tar", makeTar(t, files, false)),
		"zip misnamed": writeFile(t, tmp, "agent.tar.gz", makeZip(t, files, false)),
		"tgz no ext":   writeFile(t, tmp, "latest", makeTar(t, files, true)),
	}
	ref := bundleOf(t, specs["dir"], opts)
	want := describe(t, ref)
	if !strings.Contains(want, "jennifer.jar -rw-r--r-- 11") || !strings.Contains(want, "lib/libx.so Lrwxrwxrwx 0 \"libx.so.1\"") || !strings.Contains(want, "logs/ drwxr-xr-x") {
		t.Fatalf("unexpected file list:\n%s", want)
	}
	if ref.Name != "agent.java" || !strings.HasPrefix(ref.Digest, "sha256:") {
		t.Errorf("name %q digest %q", ref.Name, ref.Digest)
	}
	for kind, spec := range specs {
		for round := 0; round < 2; round++ { // the second round reads the cache
			b := bundleOf(t, spec, opts)
			if b.Digest != ref.Digest {
				t.Errorf("%s (round %d): digest %s, want %s", kind, round, b.Digest, ref.Digest)
			}
			if got := describe(t, b); got != want {
				t.Errorf("%s: files\n%s\nwant\n%s", kind, got, want)
			}
			if b.Name != "agent.java" || b.Source != spec {
				t.Errorf("%s: name %q source %q", kind, b.Name, b.Source)
			}
		}
	}
	conf, err := ref.ReadFile("conf/jennifer.conf")
	if err != nil || !strings.Contains(string(conf), "server_port") {
		t.Errorf("ReadFile: %q, %v", conf, err)
	}
	if _, err := ref.Open("conf"); err == nil {
		t.Error("Open of a folder succeeded")
	}
	if _, err := ref.Open("nope"); !os.IsNotExist(err) && !strings.Contains(err.Error(), "no file") {
		t.Errorf("Open of a missing file: %v", err)
	}

	// Permission bits that depend on the umask do not move the digest; the
	// execute bit does.
	files[3].mode = 0o600
	files[2].mode = 0o775
	if d := bundleOf(t, writeFile(t, tmp, "umask.zip", makeZip(t, files, false)), opts).Digest; d != ref.Digest {
		t.Errorf("umask-only differences changed the digest")
	}
	files[3].mode = 0o744
	if d := bundleOf(t, writeFile(t, tmp, "exec.zip", makeZip(t, files, false)), opts).Digest; d == ref.Digest {
		t.Errorf("execute bit did not change the digest")
	}

	// A different content gives a different digest.
	files[1].body = "PK other jar"
	other := bundleOf(t, writeFile(t, tmp, "other.zip", makeZip(t, files, false)), opts)
	if other.Digest == ref.Digest {
		t.Error("different content, same digest")
	}
}

func TestArchiveWithoutAgentFolder(t *testing.T) {
	// Files at the top level, no agent.* folder: nothing to strip.
	files := []tfile{{name: "jennifer.jar", typ: '0', mode: 0o644, body: "x"}, {name: "conf/jennifer.conf", typ: '0', mode: 0o644, body: "y"}}
	tmp := t.TempDir()
	b := bundleOf(t, writeFile(t, tmp, "a.zip", makeZip(t, files, false)), Options{CacheDir: tmp})
	var paths []string
	for _, f := range b.Files {
		paths = append(paths, f.Path)
	}
	if !reflect.DeepEqual(paths, []string{"conf/", "conf/jennifer.conf", "jennifer.jar"}) {
		t.Errorf("paths %v", paths)
	}
	// A single top-level folder that is not an agent folder is kept.
	files = []tfile{{name: "otel/agent.jar", typ: '0', mode: 0o644, body: "x"}}
	b = bundleOf(t, writeFile(t, tmp, "b.zip", makeZip(t, files, false)), Options{CacheDir: tmp})
	if b.Files[1].Path != "otel/agent.jar" {
		t.Errorf("files %v", b.Files)
	}
	// Unless the caller names it as one.
	b = bundleOf(t, filepath.Join(tmp, "b.zip"), Options{CacheDir: tmp, BundleRoot: []string{"otel"}})
	if len(b.Files) != 1 || b.Files[0].Path != "agent.jar" || b.Name != "otel" {
		t.Errorf("files %v name %q", b.Files, b.Name)
	}
}

func TestTarHardLinkAndLinkModes(t *testing.T) {
	files := sampleAgent()
	files[8].mode = 0o755 // some archivers store other bits on symlinks
	files = append(files, tfile{name: "agent.java/lib/libx-copy.so.1", typ: '1', link: "agent.java/lib/libx.so.1"})
	tmp := t.TempDir()
	b := bundleOf(t, writeFile(t, tmp, "a.tgz", makeTar(t, files, true)), Options{CacheDir: tmp})
	d := describe(t, b)
	if !strings.Contains(d, `lib/libx-copy.so.1 -rwxr-xr-x 7 "" "\x7fELF..."`) || !strings.Contains(d, `lib/libx.so Lrwxrwxrwx`) {
		t.Errorf("files:\n%s", d)
	}
}

func TestGuessRoot(t *testing.T) {
	for _, tc := range []struct {
		names []string
		roots []string
		want  string
		ok    bool
	}{
		{[]string{"agent.java/", "agent.java/jennifer.jar"}, nil, "agent.java", true},
		{[]string{"./agent.dotnet/bin/x.so"}, nil, "agent.dotnet", true},
		{[]string{"agent.java/a", "README"}, nil, "", false},
		{[]string{"agent./a"}, nil, "agent.", false},
		{[]string{"jennifer/a"}, []string{"jennifer"}, "jennifer", true},
		{[]string{"agent.java/a"}, []string{"jennifer"}, "agent.java", false},
		{nil, nil, "", false},
	} {
		got, ok := GuessRoot(tc.names, tc.roots)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("GuessRoot(%v, %v) = %q, %v; want %q, %v", tc.names, tc.roots, got, ok, tc.want, tc.ok)
		}
	}
}

func TestOpenSpecErrors(t *testing.T) {
	tmp := t.TempDir()
	ctx := context.Background()
	if _, err := Open(ctx, filepath.Join(tmp, "missing.zip"), Options{CacheDir: tmp}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Open(ctx, "agnet.zip", Options{CacheDir: tmp}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing relative file: %v", err)
	}
	for _, ref := range []string{"registry.example/agents/java:1", "oci-archive:agent.tar", "oci:layout:java"} {
		if _, err := Open(ctx, ref, Options{CacheDir: tmp}); err == nil || !strings.Contains(err.Error(), "image references are not supported") {
			t.Errorf("%s without resolver: %v", ref, err)
		}
	}
	junk := writeFile(t, tmp, "junk.zip", []byte("this is not an archive at all"))
	if _, err := Open(ctx, junk, Options{CacheDir: tmp}); err == nil || !strings.Contains(err.Error(), "not a zip, tar.gz or tar") {
		t.Errorf("junk: %v", err)
	}
	trunc := makeTar(t, sampleAgent(), true)
	bad := writeFile(t, tmp, "trunc.tgz", trunc[:len(trunc)/2])
	if _, err := Open(ctx, bad, Options{CacheDir: filepath.Join(tmp, "c")}); err == nil {
		t.Error("truncated tgz accepted")
	}
	if got := listFiles(t, filepath.Join(tmp, "c")); len(got) != 0 {
		t.Errorf("truncated tgz left files in the cache: %v", got)
	}
}
