//go:build unix

package atomicfile

import (
	"path/filepath"
	"syscall"
	"testing"
)

// The mode is perm minus the umask, as for a file created directly, or
// perm exactly with ExactPerm.
func TestModeAndUmask(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	dir := t.TempDir()
	p, q := filepath.Join(dir, "p"), filepath.Join(dir, "q")
	if err := WriteFile(p, []byte("p"), 0o666); err != nil {
		t.Fatal(err)
	}
	checkFile(t, p, "p", 0o640)
	if err := WriteFile(q, []byte("q"), 0o644, ExactPerm()); err != nil {
		t.Fatal(err)
	}
	checkFile(t, q, "q", 0o644)
}
