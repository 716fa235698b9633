package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Without a mirror in the host's apt sources debootstrap gets none and
// uses its own default; a mirror found is passed last.
func TestDebootstrapArgs(t *testing.T) {
	if got, want := debootstrapArgs(nil, "/r", ""), []string{"--variant=minbase", Suite, "/r"}; !slices.Equal(got, want) {
		t.Errorf("no mirror: %q, want %q", got, want)
	}
	got := debootstrapArgs([]string{"a", "b"}, "/r", "http://mirror.invalid/debian")
	if want := []string{"--variant=minbase", "--include=a,b", Suite, "/r", "http://mirror.invalid/debian"}; !slices.Equal(got, want) {
		t.Errorf("with a mirror: %q, want %q", got, want)
	}
}

// The main archive of one-line and deb822 sources is found; security and
// bracketed-option entries are not taken for it.
func TestMirrorIn(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ name, content, want string }{
		{"one-line", "deb http://mirror.invalid/debian bookworm main\n", "http://mirror.invalid/debian"},
		{"deb822", "Types: deb\nURIs: http://mirror.invalid/debian/\nSuites: bookworm\n", "http://mirror.invalid/debian"},
		{"security only", "deb http://mirror.invalid/debian-security bookworm-security main\n", ""},
		{"options", "deb [arch=amd64] http://mirror.invalid/debian bookworm main\n", ""},
		{"none", "# nothing\n", ""},
	} {
		f := filepath.Join(dir, tt.name)
		if err := os.WriteFile(f, []byte(tt.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := mirrorIn(f); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := mirrorIn(filepath.Join(dir, "missing")); got != "" {
		t.Errorf("missing file: %q", got)
	}
}
