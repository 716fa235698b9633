package agent

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tfile is one member of a test archive. typ is a tar typeflag; zip
// archives map it to a mode.
type tfile struct {
	name string
	typ  byte
	mode int64 // permission and setuid bits, tar style
	body string
	link string
}

// sampleAgent is a small agent.java as the view server's zip holds it.
func sampleAgent() []tfile {
	return []tfile{
		{name: "agent.java/", typ: tar.TypeDir, mode: 0o755},
		{name: "agent.java/jennifer.jar", typ: tar.TypeReg, mode: 0o644, body: "PK fake jar"},
		{name: "agent.java/conf/", typ: tar.TypeDir, mode: 0o755},
		{name: "agent.java/conf/jennifer.conf", typ: tar.TypeReg, mode: 0o644, body: "server_port = 5000\ndomain_id = 1000\n"},
		{name: "agent.java/bin/", typ: tar.TypeDir, mode: 0o755},
		{name: "agent.java/bin/tool.sh", typ: tar.TypeReg, mode: 0o755, body: "#!/bin/sh\necho hi\n"},
		{name: "agent.java/lib/", typ: tar.TypeDir, mode: 0o755},
		{name: "agent.java/lib/libx.so.1", typ: tar.TypeReg, mode: 0o755, body: "\x7fELF..."},
		{name: "agent.java/lib/libx.so", typ: tar.TypeSymlink, mode: 0o777, link: "libx.so.1"},
		{name: "agent.java/logs/", typ: tar.TypeDir, mode: 0o755},
	}
}

func makeTar(t testing.TB, files []tfile, compress bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	var tw *tar.Writer
	var zw *gzip.Writer
	if compress {
		zw = gzip.NewWriter(&buf)
		tw = tar.NewWriter(zw)
	} else {
		tw = tar.NewWriter(&buf)
	}
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Typeflag: f.typ, Mode: f.mode, Linkname: f.link, Size: int64(len(f.body)), Format: tar.FormatPAX}
		if f.typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			tw.Write([]byte(f.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		zw.Close()
	}
	return buf.Bytes()
}

func tarModeToFS(f tfile) fs.FileMode {
	m := fs.FileMode(f.mode & 0o777)
	if f.mode&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if f.mode&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	switch f.typ {
	case tar.TypeDir:
		m |= fs.ModeDir
	case tar.TypeSymlink:
		m |= fs.ModeSymlink
	case tar.TypeChar:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case tar.TypeFifo:
		m |= fs.ModeNamedPipe
	}
	return m
}

// makeZip writes a zip with Unix modes, as Info-ZIP and the JDK's zip tools do.
// Folder entries are left out when skipDirs is set (many zips have none).
func makeZip(t testing.TB, files []tfile, skipDirs bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		if skipDirs && f.typ == tar.TypeDir && f.name != "agent.java/logs/" {
			continue
		}
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate}
		h.SetMode(tarModeToFS(f))
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		switch f.typ {
		case tar.TypeReg:
			w.Write([]byte(f.body))
		case tar.TypeSymlink:
			w.Write([]byte(f.link))
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeTree lays the files out on disk below dir.
func writeTree(t testing.TB, dir string, files []tfile) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(f.name, "/")))
		os.MkdirAll(filepath.Dir(p), 0o755)
		var err error
		switch f.typ {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
			if err == nil {
				err = os.Chmod(p, fs.FileMode(f.mode))
			}
		case tar.TypeReg:
			err = os.WriteFile(p, []byte(f.body), 0o600)
			if err == nil {
				err = os.Chmod(p, fs.FileMode(f.mode&0o777))
			}
		case tar.TypeSymlink:
			err = os.Symlink(f.link, p)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// listFiles returns every file below dir (relative), for "nothing written" checks.
func listFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}
