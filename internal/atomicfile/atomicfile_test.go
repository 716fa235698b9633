package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// umask reads the process umask the way a file creation sees it.
func umask(t *testing.T) fs.FileMode {
	t.Helper()
	p := filepath.Join(t.TempDir(), "probe")
	if err := os.WriteFile(p, nil, 0o777); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return 0o777 &^ fi.Mode().Perm()
}

func checkFile(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || string(got) != content {
		t.Errorf("%s: %q, %v; want %q", path, got, err, content)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != mode {
		t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode().Perm(), err, mode)
	}
}

func TestWriteFileNewAndReplaced(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "index.json")
	if err := WriteFile(p, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkFile(t, p, "one", 0o644&^umask(t))
	// A replaced file gets the new mode, not the old one's.
	os.Chmod(p, 0o600)
	if err := WriteFile(p, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkFile(t, p, "two", 0o644&^umask(t))
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("left in the folder: %v", names)
	}
}

// The temporary file is in the destination's folder, named by the pattern,
// and the destination is untouched until the rename.
func TestWriteTempBesideDestination(t *testing.T) {
	for _, tc := range []struct {
		opts   []Option
		prefix string
		suffix string
	}{
		{nil, ".a.tar.tmp-", ""},
		{[]Option{TempPattern(".tmp-*")}, ".tmp-", ""},
		{[]Option{TempPattern("a.tar.tmp-")}, "a.tar.tmp-", ""},
		{[]Option{TempPattern("x-*.part")}, "x-", ".part"},
	} {
		dir := t.TempDir()
		p := filepath.Join(dir, "a.tar")
		os.WriteFile(p, []byte("old"), 0o644)
		err := Write(p, 0o644, func(w io.Writer) error {
			io.WriteString(w, "new")
			if got, _ := os.ReadFile(p); string(got) != "old" {
				t.Errorf("destination changed before the rename: %q", got)
			}
			names := entries(t, dir)
			if len(names) != 2 {
				t.Fatalf("folder while writing: %v", names)
			}
			tmp := names[0]
			if tmp == "a.tar" {
				tmp = names[1]
			}
			digits := strings.TrimSuffix(strings.TrimPrefix(tmp, tc.prefix), tc.suffix)
			if !strings.HasPrefix(tmp, tc.prefix) || !strings.HasSuffix(tmp, tc.suffix) || digits == "" || strings.Trim(digits, "0123456789") != "" {
				t.Errorf("temporary file %q, want %s<digits>%s", tmp, tc.prefix, tc.suffix)
			}
			return nil
		}, tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		checkFile(t, p, "new", 0o644&^umask(t))
		if names := entries(t, dir); len(names) != 1 {
			t.Errorf("left in the folder: %v", names)
		}
	}
}

// A failing write leaves the destination as it was and no temporary file.
func TestWriteFailureLeavesDestination(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a")
	os.WriteFile(p, []byte("old"), 0o640)
	boom := errors.New("boom")
	err := Write(p, 0o644, func(w io.Writer) error {
		io.WriteString(w, "half")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want the write's", err)
	}
	checkFile(t, p, "old", 0o640)
	if names := entries(t, dir); len(names) != 1 {
		t.Errorf("left in the folder: %v", names)
	}
	// A destination that cannot be renamed over (a folder): the error,
	// and the temporary file removed.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "x"), nil, 0o644)
	if err := WriteFile(sub, []byte("x"), 0o644); err == nil {
		t.Error("renaming over a non-empty folder succeeded")
	}
	if names := entries(t, dir); len(names) != 2 {
		t.Errorf("left in the folder: %v", names)
	}
	// A missing folder is an error, not a created one.
	if err := WriteFile(filepath.Join(dir, "missing", "a"), nil, 0o644); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing folder: %v", err)
	}
}

// Create, Close, Commit: several files completed before the first is put
// in place; Discard removes what was not committed.
func TestCloseThenCommit(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte("old a"), 0o600)
	os.WriteFile(b, []byte("old b"), 0o600)
	fa, err := Create(a, 0o640, ExactPerm())
	if err != nil {
		t.Fatal(err)
	}
	defer fa.Discard()
	fb, err := Create(b, 0o640, ExactPerm())
	if err != nil {
		t.Fatal(err)
	}
	defer fb.Discard()
	io.WriteString(fa, "new a")
	io.WriteString(fb, "new b")
	if err := fa.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fb.Close(); err != nil {
		t.Fatal(err)
	}
	checkFile(t, a, "old a", 0o600)
	if err := fa.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := fa.Commit(); err != nil {
		t.Errorf("second Commit: %v", err)
	}
	checkFile(t, a, "new a", 0o640)
	fb.Discard()
	if err := fb.Commit(); err == nil {
		t.Error("Commit after Discard succeeded")
	}
	checkFile(t, b, "old b", 0o600)
	if names := entries(t, dir); len(names) != 2 {
		t.Errorf("left in the folder: %v", names)
	}
}
