package agent

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"path"
	"strings"
	"testing"
)

// The archive readers are fed arbitrary bytes. Whatever they accept must
// satisfy the safety contract the rest of jbuild relies on; whatever they
// refuse must be refused with an error, never a panic or a hang. The
// limits are small so a fuzzed bomb is refused quickly.
var fuzzOpts = Options{MaxExpandedSize: 1 << 20, MaxEntries: 256}

func FuzzZipReader(f *testing.F) {
	for _, files := range fuzzSeedArchives() {
		f.Add(makeZip(f, files, false))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		raw, err := readZip(context.Background(), bytes.NewReader(data), int64(len(data)), "fuzz.zip", fuzzOpts)
		if err != nil {
			return
		}
		checkAccepted(t, raw)
	})
}

func FuzzTarReader(f *testing.F) {
	for _, files := range fuzzSeedArchives() {
		f.Add(makeTar(f, files, false))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		raw, err := scanTar(context.Background(), r, bytes.NewReader(data), "fuzz.tar", fuzzOpts)
		if err != nil {
			return
		}
		checkAccepted(t, raw)
	})
}

func fuzzSeedArchives() [][]tfile {
	seeds := [][]tfile{sampleAgent()}
	for _, h := range hostileArchives() {
		size := 0
		for _, f := range h.files {
			size += len(f.body)
		}
		if len(h.files) > 4 || size > 4096 {
			continue // keep seeds small: the fuzzer mutates every byte
		}
		seeds = append(seeds, h.files)
	}
	return seeds
}

// checkAccepted asserts the contract of an accepted archive: after
// assemble, every name is clean and relative, nothing is special or
// privileged, links stay inside, and every regular file reads back exactly
// its declared size.
func checkAccepted(t *testing.T, raw []*entry) {
	t.Helper()
	files, _, err := assemble("fuzz", raw, "", true, nil)
	if err != nil {
		return
	}
	var total int64
	for _, e := range files {
		if e.name == "" || path.IsAbs(e.name) || path.Clean(e.name) != e.name || e.name == ".." || strings.HasPrefix(e.name, "../") {
			t.Fatalf("accepted unclean name %q", e.name)
		}
		if e.mode&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeSetuid|fs.ModeSetgid) != 0 {
			t.Fatalf("accepted %q with mode %v", e.name, e.mode)
		}
		switch {
		case e.mode&fs.ModeSymlink != 0:
			if err := checkLink("fuzz", e.name, e.link); err != nil {
				t.Fatalf("accepted escaping link: %v", err)
			}
		case e.mode.IsRegular():
			total += e.size
			rc, err := e.open()
			if err != nil {
				continue // a zip member whose data is broken fails on read, not on accept
			}
			n, _ := io.Copy(io.Discard, io.LimitReader(rc, e.size+1))
			rc.Close()
			if n > e.size {
				t.Fatalf("%q reads more than its declared %d bytes", e.name, e.size)
			}
		}
	}
	if total > fuzzOpts.MaxExpandedSize {
		t.Fatalf("accepted %d bytes, past the %d limit", total, fuzzOpts.MaxExpandedSize)
	}
}
