// Command gen writes jbuild's hostile input corpus: agent archives and
// images that try to escape the agent folder, smuggle in devices or
// privileges, detonate as zip or gzip bombs, break parsers with huge or
// malformed headers, or lie about their content. Every one must be refused
// by `jbuild wrap --agent` (or as the image to wrap) with a message naming
// the entry, and nothing written (cmd/jbuild/hostile_test.go).
//
//	go run ./testdata/hostile/gen -o testdata/hostile
//
// The output is deterministic (fixed times, fixed order, no randomness), so
// running it again changes nothing in git. cases.json lists every file with
// its kind, how it is used and what the error must say.
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/jbuild-dev/jbuild/internal/agent"
)

// Case is one entry of cases.json.
type Case struct {
	File string `json:"file"` // relative to the corpus folder
	Kind string `json:"kind"` // for the README count
	// Use is "agent" (--agent FILE), "agent-image" (--agent oci:DIR:agent
	// or oci-archive:FILE:agent), "source" (the image to wrap), "target"
	// (-t oci:DIR:out, which must be left as it is) or "profile"
	// (--profile FILE).
	Use string `json:"use"`
	// Entry and Reason must both appear in the error.
	Entry  string `json:"entry"`
	Reason string `json:"reason"`
	// MaxSize, when set, is passed as --agent-max-size: bombs are kept
	// small in the repository and tested against a small limit.
	MaxSize string `json:"maxSize,omitempty"`
	What    string `json:"what"`
}

var (
	out   = flag.String("o", "testdata/hostile", "corpus folder to write")
	epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	cases []Case
)

func main() {
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	archives()
	images()
	others()
	sort.Slice(cases, func(i, j int) bool { return cases[i].File < cases[j].File })
	b, _ := json.MarshalIndent(cases, "", "  ")
	must(os.WriteFile(filepath.Join(*out, "cases.json"), append(b, '\n'), 0o644))
	fmt.Printf("wrote %d hostile inputs to %s\n", len(cases), *out)
}

// member is one archive entry.
type member struct {
	name, body, link string
	typ              byte
	mode             int64
	pax              map[string]string
}

var jar = member{name: "agent.java/jennifer.jar", typ: tar.TypeReg, mode: 0o644, body: "PK fake jar"}

func reg(name, body string) member {
	return member{name: name, typ: tar.TypeReg, mode: 0o644, body: body}
}

func tarBytes(ms []member) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		h := &tar.Header{Name: m.name, Typeflag: m.typ, Mode: m.mode, Linkname: m.link, ModTime: epoch, Format: tar.FormatPAX, PAXRecords: m.pax}
		if m.typ == tar.TypeReg {
			h.Size = int64(len(m.body))
		}
		if m.typ == tar.TypeChar || m.typ == tar.TypeBlock {
			h.Devmajor, h.Devminor = 1, 1
		}
		must(tw.WriteHeader(h))
		if h.Size > 0 {
			_, err := tw.Write([]byte(m.body))
			must(err)
		}
	}
	must(tw.Close())
	return buf.Bytes()
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, err := zw.Write(b)
	must(err)
	must(zw.Close())
	return buf.Bytes()
}

func zipBytes(ms []member) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		h := &zip.FileHeader{Name: m.name, Method: zip.Deflate, Modified: epoch}
		mode := fs.FileMode(m.mode & 0o777)
		if m.mode&0o4000 != 0 {
			mode |= fs.ModeSetuid
		}
		if m.mode&0o2000 != 0 {
			mode |= fs.ModeSetgid
		}
		body := m.body
		switch m.typ {
		case tar.TypeDir:
			mode |= fs.ModeDir
		case tar.TypeSymlink:
			mode |= fs.ModeSymlink
			body = m.link
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		must(err)
		_, err = w.Write([]byte(body))
		must(err)
	}
	must(zw.Close())
	return buf.Bytes()
}

func write(name string, data []byte) {
	p := filepath.Join(*out, name)
	must(os.MkdirAll(filepath.Dir(p), 0o755))
	must(os.WriteFile(p, data, 0o644))
}

func add(c Case, data []byte) {
	write(c.File, data)
	cases = append(cases, c)
}

func archives() {
	add(Case{File: "agents/traversal.zip", Kind: "path traversal", Use: "agent", Entry: "agent.java/../../../etc/cron.d/jbuild", Reason: `".." component`,
		What: "a member climbing out of the agent folder through agent.java/.."},
		zipBytes([]member{jar, reg("agent.java/../../../etc/cron.d/jbuild", "* * * * * root id\n")}))
	add(Case{File: "agents/traversal.tar", Kind: "path traversal", Use: "agent", Entry: "../evil.sh", Reason: `".." component`,
		What: "a member named ../evil.sh"},
		tarBytes([]member{jar, reg("../evil.sh", "#!/bin/sh\nid\n")}))
	add(Case{File: "agents/absolute.tar", Kind: "absolute path", Use: "agent", Entry: "/etc/cron.d/jbuild", Reason: "absolute path",
		What: "a member with an absolute name"},
		tarBytes([]member{jar, reg("/etc/cron.d/jbuild", "x")}))
	add(Case{File: "agents/absolute.zip", Kind: "absolute path", Use: "agent", Entry: "/root/.ssh/authorized_keys", Reason: "absolute path",
		What: "a zip member with an absolute name"},
		zipBytes([]member{jar, reg("/root/.ssh/authorized_keys", "ssh-ed25519 AAAA")}))
	add(Case{File: "agents/symlink-escape.tar.gz", Kind: "escaping symlink", Use: "agent", Entry: "etc", Reason: "points outside the agent folder",
		What: "agent.java/etc -> ../../../etc"},
		gz(tarBytes([]member{jar, {name: "agent.java/etc", typ: tar.TypeSymlink, mode: 0o777, link: "../../../etc"}})))
	add(Case{File: "agents/symlink-absolute.zip", Kind: "escaping symlink", Use: "agent", Entry: "shadow", Reason: "is absolute",
		What: "a zip symlink to /etc/shadow"},
		zipBytes([]member{jar, {name: "agent.java/shadow", typ: tar.TypeSymlink, mode: 0o777, link: "/etc/shadow"}}))
	add(Case{File: "agents/symlink-write-through.tar", Kind: "escaping symlink", Use: "agent", Entry: "lib/x.so", Reason: "which is a symlink",
		What: "a symlink to a folder, then a file written through it"},
		tarBytes([]member{jar, {name: "agent.java/lib", typ: tar.TypeSymlink, mode: 0o777, link: "."}, reg("agent.java/lib/x.so", "x")}))
	add(Case{File: "agents/hardlink-escape.tar", Kind: "escaping hardlink", Use: "agent", Entry: "agent.java/passwd", Reason: "outside the agent folder",
		What: "a hard link to ../../etc/passwd"},
		tarBytes([]member{jar, {name: "agent.java/passwd", typ: tar.TypeLink, mode: 0o644, link: "../../etc/passwd"}}))
	add(Case{File: "agents/hardlink-outside.tar", Kind: "escaping hardlink", Use: "agent", Entry: "agent.java/passwd", Reason: "outside the agent folder",
		What: "a hard link to etc/passwd, outside agent.java/ but inside the archive"},
		tarBytes([]member{jar, {name: "agent.java/passwd", typ: tar.TypeLink, mode: 0o644, link: "etc/passwd"}}))
	add(Case{File: "agents/marker-self-symlink.tar", Kind: "agent marker not a file", Use: "agent", Entry: "jennifer.jar", Reason: "not a regular file",
		What: "jennifer.jar as a symlink to itself (the JVM would fail to start)"},
		tarBytes([]member{{name: "agent.java/jennifer.jar", typ: tar.TypeSymlink, mode: 0o777, link: "jennifer.jar"}, reg("agent.java/conf/jennifer.conf", "server_port = 5000\n")}))
	add(Case{File: "agents/marker-folder.tar", Kind: "agent marker not a file", Use: "agent", Entry: "jennifer.jar", Reason: "not a regular file",
		What: "jennifer.jar as a folder"},
		tarBytes([]member{{name: "agent.java/jennifer.jar/", typ: tar.TypeDir, mode: 0o755}, reg("agent.java/jennifer.jar/x.class", "x")}))
	add(Case{File: "agents/device-char.tar", Kind: "device node", Use: "agent", Entry: "agent.java/mem", Reason: "device files",
		What: "a character device (1,1 is /dev/mem)"},
		tarBytes([]member{jar, {name: "agent.java/mem", typ: tar.TypeChar, mode: 0o666}}))
	add(Case{File: "agents/device-block.tar", Kind: "device node", Use: "agent", Entry: "agent.java/sda", Reason: "device files",
		What: "a block device"},
		tarBytes([]member{jar, {name: "agent.java/sda", typ: tar.TypeBlock, mode: 0o660}}))
	add(Case{File: "agents/fifo.tar", Kind: "fifo", Use: "agent", Entry: "agent.java/pipe", Reason: "fifos",
		What: "a named pipe"},
		tarBytes([]member{jar, {name: "agent.java/pipe", typ: tar.TypeFifo, mode: 0o644}}))
	add(Case{File: "agents/setuid.tar", Kind: "setuid/setgid", Use: "agent", Entry: "agent.java/bin/su", Reason: "setuid/setgid bit set",
		What: "a setuid root binary"},
		tarBytes([]member{jar, {name: "agent.java/bin/su", typ: tar.TypeReg, mode: 0o4755, body: "\x7fELF"}}))
	add(Case{File: "agents/setgid.zip", Kind: "setuid/setgid", Use: "agent", Entry: "agent.java/bin/sg", Reason: "setuid/setgid bit set",
		What: "a setgid binary in a zip"},
		zipBytes([]member{jar, {name: "agent.java/bin/sg", typ: tar.TypeReg, mode: 0o2755, body: "\x7fELF"}}))
	add(Case{File: "agents/duplicate.zip", Kind: "duplicate entry", Use: "agent", Entry: "agent.java/jennifer.jar", Reason: "appears twice",
		What: "the same name twice with different content (which one wins depends on the tool)"},
		zipBytes([]member{jar, reg("agent.java/jennifer.jar", "evil")}))
	add(Case{File: "agents/duplicate.tar", Kind: "duplicate entry", Use: "agent", Entry: "agent.java/conf/jennifer.conf", Reason: "appears twice",
		What: "a config file overridden by a later entry"},
		tarBytes([]member{jar, reg("agent.java/conf/jennifer.conf", "a = 1\n"), reg("agent.java/conf/jennifer.conf", "a = 2\n")}))
	add(Case{File: "agents/whiteout.tar", Kind: "path traversal", Use: "agent", Entry: "agent.java/.wh..wh..opq", Reason: "whiteouts",
		What: "an opaque whiteout that would hide the image's files below"},
		tarBytes([]member{jar, reg("agent.java/.wh..wh..opq", "")}))

	// Bombs. The limit is configurable (--agent-max-size); the corpus stays
	// small and is tested against 16 MiB.
	zeros := strings.Repeat("\x00", 32<<20)
	add(Case{File: "agents/zip-bomb.zip", Kind: "zip bomb", Use: "agent", Entry: "agent.java/bomb.bin", Reason: "archive expands past 16777216 bytes", MaxSize: "16MiB",
		What: "32 MiB of zeros deflated to ~32 KiB (ratio ~1000:1)"},
		zipBytes([]member{jar, reg("agent.java/bomb.bin", zeros)}))
	add(Case{File: "agents/zip-overlap-bomb.zip", Kind: "zip bomb", Use: "agent", Entry: "agent.java/b0001.bin", Reason: "local file header names it",
		What: "a non-recursive bomb (Fifield's overlapping files): 2100 central directory entries share one 1 MiB member's data, 2.1 GiB from ~150 KiB, past the default 2 GiB limit; refused at the second entry, whose local header is the first one's"},
		overlapBomb(2100, 1<<20))
	add(Case{File: "agents/gzip-bomb.tar.gz", Kind: "gzip bomb", Use: "agent", Entry: "agent.java/bomb.bin", Reason: "archive expands past 16777216 bytes", MaxSize: "16MiB",
		What: "a .tar.gz with a 32 MiB file of zeros (~32 KiB compressed): refused from its header, before expanding it"},
		gz(tarBytes([]member{jar, reg("agent.java/bomb.bin", zeros)})))
	add(Case{File: "agents/gzip-bomb-many.tar.gz", Kind: "gzip bomb", Use: "agent", Entry: "agent.java/f0016", Reason: "archive expands past 16777216 bytes", MaxSize: "16MiB",
		What: "many 1 MiB files that each stay under any per-file limit: the total is counted"},
		gz(tarBytes(manyMiB(20))))

	// Huge and malformed headers.
	add(Case{File: "agents/pax-huge.tar.gz", Kind: "huge header", Use: "agent", Entry: "entry #2", Reason: "header",
		What: "a 4 MiB PAX record (archive/tar refuses records over 1 MiB)"},
		gz(hugePAX(4<<20)))
	long := "agent.java/" + strings.Repeat("d/", 4100) + "x"
	add(Case{File: "agents/long-name.tar.gz", Kind: "huge header", Use: "agent", Entry: long[:40], Reason: "bytes long; paths in an image are at most 4096",
		What: "an 8 KiB path in a PAX record"},
		gz(tarBytes([]member{jar, reg(long, "x")})))
	add(Case{File: "agents/long-component.zip", Kind: "huge header", Use: "agent", Entry: "agent.java/" + strings.Repeat("a", 30), Reason: "file systems allow 255",
		What: "a 300-byte file name"},
		zipBytes([]member{jar, reg("agent.java/"+strings.Repeat("a", 300), "x")}))
	add(Case{File: "agents/non-utf8.zip", Kind: "non-UTF-8 name", Use: "agent", Entry: `agent.java/\xff\xfe.jar`, Reason: "not valid UTF-8",
		What: "a member name with bytes 0xff 0xfe"},
		zipBytes([]member{jar, reg("agent.java/\xff\xfe.jar", "x")}))
	add(Case{File: "agents/non-utf8.tar", Kind: "non-UTF-8 name", Use: "agent", Entry: `agent.java/\xff\xfe.jar`, Reason: "not valid UTF-8",
		What: "a ustar name with bytes 0xff 0xfe (no PAX record)"},
		patchTarName(tarBytesUSTAR([]member{jar, reg("agent.java/XX.jar", "x")}), "agent.java/XX.jar", "agent.java/\xff\xfe.jar"))
	add(Case{File: "agents/newline-name.tar", Kind: "non-UTF-8 name", Use: "agent", Entry: `agent.java/x\n.jar`, Reason: "control character",
		What: "a name with a newline (breaks every listing and log line)"},
		tarBytes([]member{jar, reg("agent.java/x\n.jar", "x")}))
	add(Case{File: "agents/zip-header-mismatch.zip", Kind: "conflicting zip headers", Use: "agent", Entry: "agent.java/lib/agent-x.jar", Reason: `local file header names it "../../../../../tmp/xyz.jar"`,
		What: "central directory says agent.java/lib/agent-x.jar, the local header ../../../../../tmp/xyz.jar (what unzip would write)"},
		patchZipLocalName(zipBytes([]member{jar, reg("agent.java/lib/agent-x.jar", "x")}), "agent.java/lib/agent-x.jar", "../../../../../tmp/xyz.jar"))
}

// hugePAX is jennifer.jar followed by a PAX extended header whose one
// record is n bytes long, then the member it describes. archive/tar's
// writer refuses such records, so the 'x' header is a regular member
// with its type flag patched.
func hugePAX(n int) []byte {
	val := strings.Repeat("A", n)
	rec := paxRecord("comment", val)
	b := tarBytesUSTAR([]member{jar, reg("PaxHeaders/x", rec), reg("agent.java/x", "x")})
	i := bytes.Index(b, []byte("PaxHeaders/x"))
	b[i+156] = tar.TypeXHeader
	return patchTarName(b, "PaxHeaders/x", "PaxHeaders/x")
}

func manyMiB(n int) []member {
	ms := []member{jar}
	mib := strings.Repeat("\x00", 1<<20)
	for i := 1; i <= n; i++ {
		ms = append(ms, reg(fmt.Sprintf("agent.java/f%04d", i), mib))
	}
	return ms
}

// overlapBomb is David Fifield's non-recursive zip bomb in its simplest
// form: one deflated member, and n central directory entries that all
// point at it under different names.
func overlapBomb(n, size int) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "agent.java/b0000.bin", Method: zip.Deflate, Modified: epoch})
	must(err)
	_, err = w.Write(make([]byte, size))
	must(err)
	must(zw.Flush())
	must(zw.Close())
	b := buf.Bytes()
	// Find the one central directory entry and the end record.
	cd := bytes.Index(b, []byte("PK\x01\x02"))
	eocd := bytes.LastIndex(b, []byte("PK\x05\x06"))
	entry := append([]byte(nil), b[cd:eocd]...)
	var out bytes.Buffer
	out.Write(b[:cd])
	for i := 0; i < n; i++ {
		e := append([]byte(nil), entry...)
		copy(e[46:], fmt.Sprintf("agent.java/b%04d.bin", i)) // same length as the original name
		out.Write(e)
	}
	end := append([]byte(nil), b[eocd:]...)
	le16 := func(p []byte, v int) { p[0], p[1] = byte(v), byte(v>>8) }
	le32 := func(p []byte, v int) { p[0], p[1], p[2], p[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }
	le16(end[8:], n)
	le16(end[10:], n)
	le32(end[12:], n*len(entry))
	le32(end[16:], cd)
	out.Write(end)
	return out.Bytes()
}

func tarBytesUSTAR(ms []member) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range ms {
		must(tw.WriteHeader(&tar.Header{Name: m.name, Typeflag: tar.TypeReg, Mode: m.mode, Size: int64(len(m.body)), ModTime: epoch, Format: tar.FormatUSTAR}))
		_, err := tw.Write([]byte(m.body))
		must(err)
	}
	must(tw.Close())
	return buf.Bytes()
}

// patchTarName rewrites a ustar name field in place (same length) and
// fixes the header checksum, for names archive/tar refuses to write.
func patchTarName(b []byte, from, to string) []byte {
	i := bytes.Index(b, []byte(from))
	if i < 0 || len(from) != len(to) {
		log.Fatalf("patchTarName: %q not found or lengths differ", from)
	}
	copy(b[i:], to)
	hdr := b[i-i%512 : i-i%512+512]
	for j := 148; j < 156; j++ {
		hdr[j] = ' '
	}
	sum := 0
	for _, c := range hdr {
		sum += int(c)
	}
	copy(hdr[148:], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

// patchZipLocalName rewrites the name in a member's local header only.
func patchZipLocalName(b []byte, from, to string) []byte {
	if len(to) != len(from) {
		log.Fatalf("patchZipLocalName: %q and %q differ in length", from, to)
	}
	i := bytes.Index(b, []byte(from)) // the local header comes first
	if i < 0 || !bytes.Equal(b[i-30:i-26], []byte("PK\x03\x04")) {
		log.Fatalf("patchZipLocalName: local header of %q not found", from)
	}
	copy(b[i:], to)
	return b
}

// others writes a target folder that is not an OCI layout and a profile
// that installs the agent where a run-time mount hides it.
func others() {
	write("targets/web-project/app.js", []byte("console.log('hi')\n"))
	write("targets/web-project/index.json", []byte(`{"name": "web", "version": "1.0.0"}`+"\n"))
	cases = append(cases, Case{File: "targets/web-project", Kind: "not an OCI layout", Use: "target", Entry: "index.json", Reason: "is not an OCI layout",
		What: "a web project's folder with its own index.json, given as -t oci:DIR"})
	add(Case{File: "profiles/installdir-proc.yaml", Kind: "profile installDir under a mount", Use: "profile", Entry: "installDir", Reason: "below /proc",
		What: "a profile whose installDir is /proc/jennifer (procfs hides it at run time)"},
		[]byte("name: evil-java\nagent: JENNIFER\nruntime: java\nbundleRoot: agent.java\nbundleMarkers: [jennifer.jar]\ninstallDir: /proc/jennifer\n"+
			"env:\n  - name: JAVA_TOOL_OPTIONS\n    op: append\n    separator: \" \"\n    value: \"-javaagent:${INSTALL_DIR}/jennifer.jar\"\n"))
}

// images writes hostile OCI layouts and archives: agent images and
// images to wrap whose blobs do not match their digests, an index.json
// naming a file outside blobs/, and archives with entries a layout never has.
func images() {
	good := tarBytes([]member{
		{name: "opt/jennifer/agent.java/", typ: tar.TypeDir, mode: 0o755},
		{name: "opt/jennifer/agent.java/jennifer.jar", typ: tar.TypeReg, mode: 0o644, body: "PK fake jar"},
		{name: "opt/jennifer/agent.java/conf/", typ: tar.TypeDir, mode: 0o755},
		{name: "opt/jennifer/agent.java/conf/jennifer.conf", typ: tar.TypeReg, mode: 0o644, body: "server_port = 5000\n"},
	})
	img := agentImage(good)

	// The layer blob is replaced by other bytes of the same size: only the
	// digest can tell.
	dir := filepath.Join(*out, "images/layer-digest-mismatch")
	writeLayout(dir, img)
	layers, _ := img.Layers()
	ld, _ := layers[0].Digest()
	evil := tarBytes([]member{
		{name: "opt/jennifer/agent.java/", typ: tar.TypeDir, mode: 0o755},
		{name: "opt/jennifer/agent.java/jennifer.jar", typ: tar.TypeReg, mode: 0o644, body: "EVIL"},
	})
	evilGz := sameSizeGzip(evil, len(gzipLayer(good)))
	must(os.WriteFile(filepath.Join(dir, "blobs", "sha256", ld.Hex), evilGz, 0o644))
	cases = append(cases,
		Case{File: "images/layer-digest-mismatch", Kind: "image digest mismatch", Use: "agent-image", Entry: ld.String(), Reason: "the layout is corrupt or was tampered with",
			What: "an agent image (OCI layout) whose layer blob was replaced by other bytes of the same size"},
		Case{File: "images/layer-digest-mismatch", Kind: "image digest mismatch", Use: "source", Entry: ld.String(), Reason: "the layout is corrupt or was tampered with",
			What: "the same layout as the image to wrap"})
	add(Case{File: "images/layer-digest-mismatch.tar", Kind: "image digest mismatch", Use: "agent-image", Entry: ld.String(), Reason: "the layout is corrupt or was tampered with",
		What: "the same layout as an oci-archive"}, tarDir(dir, nil))

	// index.json pointing outside blobs/.
	dir = filepath.Join(*out, "images/index-escape")
	writeLayout(dir, img)
	idx := must1(os.ReadFile(filepath.Join(dir, "index.json")))
	md, _ := img.Digest()
	idx = bytes.Replace(idx, []byte(md.String()), []byte("sha256:../../../../../../etc/passwd"), 1)
	must(os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644))
	cases = append(cases, Case{File: "images/index-escape", Kind: "index outside blobs", Use: "agent-image", Entry: "manifests[0]", Reason: `"sha256:../../../../../../etc/passwd" is not a sha256 digest`,
		What: "index.json whose manifest digest is a path out of blobs/"})

	// oci-archives with entries a layout never has, around a good layout.
	dir = must1(os.MkdirTemp("", "jbuild-hostile-gen-"))
	defer os.RemoveAll(dir)
	writeLayout(dir, img)
	add(Case{File: "images/archive-traversal.tar", Kind: "path traversal", Use: "agent-image", Entry: "blobs/../../../../tmp/jbuild-evil", Reason: "is not part of an OCI layout",
		What: "an oci-archive with a member escaping the extraction folder"},
		tarDir(dir, []member{reg("blobs/../../../../tmp/jbuild-evil", "x")}))
	add(Case{File: "images/archive-symlink.tar", Kind: "escaping symlink", Use: "agent-image", Entry: "blobs/sha256/link", Reason: "is not allowed in an OCI layout archive",
		What: "an oci-archive with a symlink under blobs/"},
		tarDir(dir, []member{{name: "blobs/sha256/link", typ: tar.TypeSymlink, mode: 0o777, link: "/etc/shadow"}}))
	add(Case{File: "images/archive-sparse.tar", Kind: "gzip bomb", Use: "agent-image", Entry: "blobs/sha256/sparse", Reason: "sparse files are not allowed",
		What: "an oci-archive with a PAX sparse file: 1 KiB declaring 1 TiB of zeros, which archive/tar would expand"},
		sparseArchive(dir))

	// An agent image whose (correctly digested) layer holds a traversal.
	bad := agentImage(tarBytes([]member{
		{name: "opt/jennifer/agent.java/jennifer.jar", typ: tar.TypeReg, mode: 0o644, body: "PK"},
		{name: "opt/jennifer/agent.java/../../../etc/cron.d/x", typ: tar.TypeReg, mode: 0o644, body: "x"},
	}))
	dir = filepath.Join(*out, "images/agent-layer-traversal")
	writeLayout(dir, bad)
	cases = append(cases, Case{File: "images/agent-layer-traversal", Kind: "path traversal", Use: "agent-image", Entry: "opt/jennifer/agent.java/../../../etc/cron.d/x", Reason: `".." component`,
		What: "an agent image whose layer climbs out of the install folder"})
}

func agentImage(layerTar []byte) v1.Image {
	l := static.NewLayer(gzipLayer(layerTar), types.OCILayer)
	img, err := agent.ImageFromLayer(l, v1.Platform{OS: "linux", Architecture: "amd64"}, map[string]string{
		agent.LabelRoot: "/opt/jennifer/agent.java", agent.LabelAgent: "agent.java", agent.LabelProfile: "jennifer-java",
	})
	must(err)
	return img
}

func gzipLayer(b []byte) []byte { return gz(b) }

// sameSizeGzip compresses b and pads the gzip stream's trailing garbage so
// it has exactly size bytes (gzip readers stop at the trailer).
func sameSizeGzip(b []byte, size int) []byte {
	g := gz(b)
	if len(g) > size {
		log.Fatalf("tampered layer is %d bytes, more than %d", len(g), size)
	}
	return append(g, make([]byte, size-len(g))...)
}

func writeLayout(dir string, img v1.Image) {
	must(os.RemoveAll(dir))
	p, err := layout.Write(dir, empty.Index)
	must(err)
	must(p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "agent"})))
}

// tarDir packs a layout folder as an oci-archive (sorted, fixed times) with
// extra members appended.
func tarDir(dir string, extra []member) []byte {
	var ms []member
	must(filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		must(err)
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			ms = append(ms, reg(filepath.ToSlash(rel), string(must1(os.ReadFile(p)))))
		}
		return nil
	}))
	sort.Slice(ms, func(i, j int) bool { return ms[i].name < ms[j].name })
	return tarBytes(append(ms, extra...))
}

// sparseArchive is a good layout's archive plus a PAX 1.0 sparse member:
// the data holds the sparse map (one 0-byte region at 1 TiB), the PAX
// records the real size. archive/tar's writer drops GNU.sparse records, so
// the extended header is a regular member with its type flag patched.
func sparseArchive(dir string) []byte {
	base := tarDir(dir, nil)
	base = base[:len(base)-1024] // drop the end-of-archive blocks
	sparseMap := "1\n1099511627776\n0\n"
	data := sparseMap + strings.Repeat("\x00", 512-len(sparseMap))
	recs := paxRecord("GNU.sparse.major", "1") + paxRecord("GNU.sparse.minor", "0") +
		paxRecord("GNU.sparse.name", "blobs/sha256/sparse") + paxRecord("GNU.sparse.realsize", "1099511627776")
	b := tarBytesUSTAR([]member{reg("PaxHeaders/sparse", recs), reg("blobs/sha256/sparse", data)})
	i := bytes.Index(b, []byte("PaxHeaders/sparse"))
	b[i+156] = tar.TypeXHeader
	b = patchTarName(b, "PaxHeaders/sparse", "PaxHeaders/sparse")
	return append(base, b...)
}

// paxRecord is one "LEN key=value\n" record; LEN counts its own digits.
func paxRecord(k, v string) string {
	rec := " " + k + "=" + v + "\n"
	d := 1
	for len(fmt.Sprint(len(rec)+d)) != d {
		d++
	}
	return fmt.Sprint(len(rec)+d) + rec
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func must1[T any](v T, err error) T {
	must(err)
	return v
}
