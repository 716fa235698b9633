package agent

import (
	"archive/zip"
	"bytes"
	"context"
	"strings"
	"testing"
)

// A URL agent that fails to open is named without its credentials.
func TestOpenAsyncFailureRedactsURL(t *testing.T) {
	s := OpenAsync(context.Background(), "http://user:s3cret@127.0.0.1:1/a.zip?token=t0k", Options{CacheDir: t.TempDir()})
	_, err := s.Platforms(context.Background())
	for _, msg := range []string{s.String(), err.Error()} {
		if strings.Contains(msg, "s3cret") || strings.Contains(msg, "t0k") {
			t.Errorf("leaks a credential: %s", msg)
		}
	}
}

// The zip local header check depends on archive/zip's recorded offset: a Go
// release that renames it must fail here, not skip the check silently.
func TestZipLocalHeaderOffsetKnown(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.Create("a")
	w, _ := zw.Create("b")
	w.Write([]byte("x"))
	zw.Close()
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	off, ok := localHeaderOffset(zr.File[1])
	if !ok || off <= 0 {
		t.Fatalf("archive/zip's header offset not found (%d, %v): update localHeaderOffset", off, ok)
	}
	if err := checkLocalHeader(bytes.NewReader(buf.Bytes()), zr.File[1]); err != nil {
		t.Fatal(err)
	}
}
