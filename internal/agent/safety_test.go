package agent

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// hostile is one unsafe archive: its members, and what the error must say
// besides the member's name.
type hostile struct {
	name   string
	files  []tfile
	entry  string // the member the error must name
	reason string
	noZip  bool // tar-only feature (hard links, devices, fifos)
	opts   Options
}

func hostileArchives() []hostile {
	ok := tfile{name: "agent.java/jennifer.jar", typ: tar.TypeReg, mode: 0o644, body: "jar"}
	big := strings.Repeat("\x00", 2<<20) // 2 MiB of zeros: deflates to a few KiB
	var many []tfile
	for i := 0; i < 20; i++ {
		many = append(many, tfile{name: "agent.java/f" + string(rune('a'+i)), typ: tar.TypeReg, mode: 0o644, body: "x"})
	}
	return []hostile{
		{name: "path traversal", files: []tfile{ok, {name: "agent.java/../../etc/cron.d/x", typ: tar.TypeReg, mode: 0o644, body: "evil"}}, entry: "agent.java/../../etc/cron.d/x", reason: `".." component`},
		{name: "absolute path", files: []tfile{ok, {name: "/etc/passwd", typ: tar.TypeReg, mode: 0o644, body: "evil"}}, entry: "/etc/passwd", reason: "absolute path"},
		{name: "escaping symlink", files: []tfile{ok, {name: "agent.java/etc", typ: tar.TypeSymlink, mode: 0o777, link: "../../../etc"}}, entry: "etc", reason: "points outside the agent folder"},
		{name: "absolute symlink", files: []tfile{ok, {name: "agent.java/shadow", typ: tar.TypeSymlink, mode: 0o777, link: "/etc/shadow"}}, entry: "shadow", reason: "is absolute"},
		{name: "symlink climbing through a symlink", files: []tfile{ok, {name: "agent.java/here", typ: tar.TypeSymlink, mode: 0o777, link: "."}, {name: "agent.java/up", typ: tar.TypeSymlink, mode: 0o777, link: "here/../.."}}, entry: "up", reason: `".." after a folder name`},
		{name: "write through a symlink", files: []tfile{ok, {name: "agent.java/lnk", typ: tar.TypeSymlink, mode: 0o777, link: "conf"}, {name: "agent.java/lnk/x", typ: tar.TypeReg, mode: 0o644, body: "x"}}, entry: "lnk/x", reason: "which is a symlink"},
		{name: "hardlink escape", files: []tfile{ok, {name: "agent.java/passwd", typ: tar.TypeLink, mode: 0o644, link: "etc/passwd"}}, entry: "agent.java/passwd", reason: "points outside the agent folder", noZip: true},
		{name: "hardlink traversal", files: []tfile{ok, {name: "agent.java/passwd", typ: tar.TypeLink, mode: 0o644, link: "../etc/passwd"}}, entry: "agent.java/passwd", reason: "outside the agent folder", noZip: true},
		{name: "device node", files: []tfile{ok, {name: "agent.java/mem", typ: tar.TypeChar, mode: 0o644}}, entry: "agent.java/mem", reason: "device files", noZip: true},
		{name: "fifo", files: []tfile{ok, {name: "agent.java/pipe", typ: tar.TypeFifo, mode: 0o644}}, entry: "agent.java/pipe", reason: "fifos", noZip: true},
		{name: "setuid", files: []tfile{ok, {name: "agent.java/bin/su", typ: tar.TypeReg, mode: 0o4755, body: "x"}}, entry: "agent.java/bin/su", reason: "setuid"},
		{name: "setgid", files: []tfile{ok, {name: "agent.java/bin/sg", typ: tar.TypeReg, mode: 0o2755, body: "x"}}, entry: "agent.java/bin/sg", reason: "setgid"},
		{name: "whiteout", files: []tfile{ok, {name: "agent.java/.wh..wh..opq", typ: tar.TypeReg, mode: 0o644}}, entry: "agent.java/.wh..wh..opq", reason: "whiteouts"},
		{name: "duplicate", files: []tfile{ok, ok}, entry: "agent.java/jennifer.jar", reason: "appears twice"},
		{name: "zip bomb", files: []tfile{ok, {name: "agent.java/bomb.bin", typ: tar.TypeReg, mode: 0o644, body: big}}, entry: "agent.java/bomb.bin", reason: "expands past 1048576 bytes", opts: Options{MaxExpandedSize: 1 << 20}},
		{name: "too many entries", files: many, entry: "agent.java/fk", reason: "more than 10 entries", opts: Options{MaxEntries: 10}},
	}
}

func TestHostileArchivesAreRejected(t *testing.T) {
	ctx := context.Background()
	for _, h := range hostileArchives() {
		t.Run(h.name, func(t *testing.T) {
			tmp := t.TempDir()
			formats := map[string][]byte{
				"agent.tgz": makeTar(t, h.files, true),
				"agent.tar": makeTar(t, h.files, false),
			}
			if !h.noZip {
				formats["agent.zip"] = makeZip(t, h.files, false)
			}
			for name, data := range formats {
				file := writeFile(t, tmp, name, data)
				opts := h.opts
				opts.CacheDir = filepath.Join(tmp, "cache-"+name)
				_, err := Open(ctx, file, opts)
				if err == nil {
					t.Errorf("%s: accepted", name)
					continue
				}
				msg := err.Error()
				if !strings.Contains(msg, file) || !strings.Contains(msg, `"`+h.entry+`"`) || !strings.Contains(msg, h.reason) {
					t.Errorf("%s: error %q\nwant it to name the archive, entry %q and say %q", name, msg, h.entry, h.reason)
				}
				if got := listFiles(t, opts.CacheDir); len(got) != 0 {
					t.Errorf("%s: rejected archive left files in the cache: %v", name, got)
				}
			}
		})
	}
}

// A zip whose central directory lies about a member's size: reading the
// member fails instead of inflating past what the limits counted.
func TestZipLyingAboutSize(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateRaw(&zip.FileHeader{Name: "agent.java/liar", Method: zip.Store, CRC32: 0, CompressedSize64: 10, UncompressedSize64: 5})
	w.Write([]byte("0123456789"))
	zw.Close()
	tmp := t.TempDir()
	file := writeFile(t, tmp, "liar.zip", buf.Bytes())
	_, err := Open(context.Background(), file, Options{CacheDir: tmp})
	if err == nil || !strings.Contains(err.Error(), `"agent.java/liar"`) {
		t.Errorf("error %v, want one naming the member", err)
	}
}

func TestHostileFolder(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "agent.java")
	writeTree(t, dir, []tfile{
		{name: "jennifer.jar", typ: tar.TypeReg, mode: 0o644, body: "jar"},
		{name: "etc", typ: tar.TypeSymlink, link: "../../etc"},
	})
	_, err := Open(context.Background(), dir, Options{CacheDir: tmp})
	if err == nil || !strings.Contains(err.Error(), `"etc"`) || !strings.Contains(err.Error(), "outside") {
		t.Errorf("escaping symlink in a folder: %v", err)
	}
}

func TestCheckLink(t *testing.T) {
	for _, tc := range []struct {
		name, target string
		ok           bool
	}{
		{"lib/libx.so", "libx.so.1", true},
		{"lib/libx.so", "../bin/x", true},
		{"lib/deep/x", "../../jennifer.jar", true},
		{"lib/x", "./y", true},
		{"lib/x", "..", true},
		{"lib/x", "../..", false},
		{"x", "../x", false},
		{"lib/x", "a/../../..", false},
		{"lib/x", "/abs", false},
		{"lib/x", "", false},
	} {
		err := checkLink("a.zip", tc.name, tc.target)
		if (err == nil) != tc.ok {
			t.Errorf("checkLink(%q -> %q) = %v, want ok=%v", tc.name, tc.target, err, tc.ok)
		}
	}
	if err := checkMode("a", "x", fs.ModeSticky|0o777); err != nil {
		t.Errorf("sticky refused: %v", err)
	}
}
