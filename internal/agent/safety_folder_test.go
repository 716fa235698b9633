package agent

import (
	"archive/tar"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The safety checks name a folder as a folder: "agent archive ./agent.java"
// sent users looking for a file that does not exist.
func TestHostileFolderSaysFolder(t *testing.T) {
	jar := tfile{name: "jennifer.jar", typ: tar.TypeReg, mode: 0o644, body: "jar"}
	for _, tt := range []struct {
		name   string
		files  []tfile
		setup  func(t *testing.T, dir string)
		opts   Options
		reason string
		limit  bool // a *LimitError
	}{
		{name: "escaping symlink", files: []tfile{jar, {name: "etc", typ: tar.TypeSymlink, link: "../../etc"}}, reason: `"etc": symlink to "../../etc" points outside the agent folder`},
		{name: "absolute symlink", files: []tfile{jar, {name: "shadow", typ: tar.TypeSymlink, link: "/etc/shadow"}}, reason: `"shadow": symlink to "/etc/shadow" is absolute`},
		{name: "setuid", files: []tfile{jar, {name: "su", typ: tar.TypeReg, mode: 0o755, body: "x"}}, setup: func(t *testing.T, dir string) {
			if err := os.Chmod(filepath.Join(dir, "su"), os.ModeSetuid|0o755); err != nil {
				t.Skip(err)
			}
		}, reason: `"su": setuid/setgid bit set`},
		{name: "fifo", files: []tfile{jar}, setup: func(t *testing.T, dir string) {
			if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
				t.Skip(err)
			}
		}, reason: `"pipe": fifos`},
		{name: "whiteout name", files: []tfile{jar, {name: ".wh.x", typ: tar.TypeReg, mode: 0o644}}, reason: `".wh.x": ".wh." names are layer whiteouts, not agent files; the folder is unsafe`},
		{name: "too many entries", files: []tfile{jar, {name: "a", typ: tar.TypeReg, mode: 0o644}, {name: "b", typ: tar.TypeReg, mode: 0o644}}, opts: Options{MaxEntries: 2}, reason: "more than 2 entries", limit: true},
		{name: "too big", files: []tfile{jar, {name: "big", typ: tar.TypeReg, mode: 0o644, body: strings.Repeat("x", 100)}}, opts: Options{MaxExpandedSize: 50}, reason: "the folder holds more than 50 bytes", limit: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			dir := filepath.Join(tmp, "agent.java")
			os.MkdirAll(dir, 0o755)
			writeTree(t, dir, tt.files)
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			opts := tt.opts
			opts.CacheDir = filepath.Join(tmp, "cache")
			_, err := Open(context.Background(), dir, opts)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if !strings.Contains(msg, "reading agent folder "+dir+": ") || strings.Contains(msg, "archive") || !strings.Contains(msg, tt.reason) {
				t.Errorf("error %q\nwant it to say \"reading agent folder %s\", never \"archive\", and %q", msg, dir, tt.reason)
			}
			var le *LimitError
			if errors.As(err, &le) != tt.limit {
				t.Errorf("error %q: *LimitError %v, want %v", msg, !tt.limit, tt.limit)
			}
		})
	}
}

// Limits are *LimitError values (the CLI names its flag), and the entries
// limit tells itself apart from the size limit.
func TestLimitErrorKinds(t *testing.T) {
	for _, h := range hostileArchives() {
		if h.opts.MaxEntries == 0 && h.opts.MaxExpandedSize == 0 {
			continue
		}
		tmp := t.TempDir()
		file := writeFile(t, tmp, "agent.tar", makeTar(t, h.files, false))
		opts := h.opts
		opts.CacheDir = tmp
		_, err := Open(context.Background(), file, opts)
		var le *LimitError
		if !errors.As(err, &le) || le.Entries != (h.opts.MaxEntries != 0) || !strings.Contains(err.Error(), "reading agent archive "+file) {
			t.Errorf("%s: error %v (%T), want a *LimitError with Entries %v naming the archive", h.name, err, err, h.opts.MaxEntries != 0)
		}
	}
}
