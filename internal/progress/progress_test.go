package progress

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/logs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func plainDisplay(t *testing.T) (*Display, func() string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "progress")
	if err != nil {
		t.Fatal(err)
	}
	d := New(f, false, "Wrapping")
	if d == nil || d.tty {
		t.Fatal("a file got no plain display")
	}
	return d, func() string {
		d.Close()
		b, _ := os.ReadFile(f.Name())
		return string(b)
	}
}

// A push keeps uploaded, mounted and found blobs apart, and counts only
// uploaded bytes as uploaded (ggcr counts mounted and found blobs as
// complete at once).
func TestPushKeepsBlobsApart(t *testing.T) {
	d, out := plainDisplay(t)
	mounted, found, up := "sha256:"+strings.Repeat("a", 64), "sha256:"+strings.Repeat("b", 64), "sha256:"+strings.Repeat("c", 64)
	step := d.Step("wrap src -> dst")
	asked := 0
	p := d.Push("reg.example/app:1-jennifer", func() map[string]int64 {
		asked++
		return map[string]int64{mounted: 5 << 20, found: 1 << 20}
	})
	if asked != 0 {
		t.Errorf("Push asked for the sizes before any blob was shown")
	}
	ch := p.Updates()
	ch <- v1.Update{Total: 6<<20 + 1000, Complete: 5 << 20}
	logs.Progress.Printf("mounted blob: %s", mounted)
	logs.Progress.Printf("existing blob: %s", found)
	ch <- v1.Update{Total: 6<<20 + 1000, Complete: 6<<20 + 1000}
	logs.Progress.Printf("pushed blob: %s", up)
	logs.Progress.Printf("existing blob: %s", up) // ggcr finding what was just streamed
	logs.Progress.Printf("reg.example/app@sha256:%s: digest: sha256:%s size: 500", strings.Repeat("d", 64), strings.Repeat("d", 64))
	logs.Progress.Printf("reg.example/app:1-jennifer: digest: sha256:%s size: 400", strings.Repeat("e", 64))
	close(ch)
	p.Finish(nil)
	step.Notef("one platform left out")
	step.Done(nil)
	got := out()
	if asked != 1 {
		t.Errorf("the sizes were asked for %d times, want once", asked)
	}
	if strings.Contains(got, "found sha256:cccc") {
		t.Errorf("a blob uploaded by this push is also shown as found:\n%s", got)
	}
	for _, want := range []string{
		"wrap src -> dst", "note: one platform left out", "pushing reg.example/app:1-jennifer",
		"mounted sha256:aaaaaaaaaaaa (5.0 MiB, from another repository of the registry, not uploaded)",
		"found sha256:bbbbbbbbbbbb (1.0 MiB, already in the repository, not uploaded)",
		"uploaded sha256:cccccccccccc", "bytes uploaded 1.00kB / 1.00kB",
		"by digest, untagged", "tagged reg.example/app:1-jennifer (sha256:eeeeeeeeeeee)", "DONE",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("display lacks %q:\n%s", want, got)
		}
	}
}

// A failed step says so once; the error itself is the command's to print.
func TestFailedStep(t *testing.T) {
	d, out := plainDisplay(t)
	d.Step("wrap a -> b").Done(errors.New("reading agent x: no such file"))
	got := out()
	if !strings.Contains(got, "ERROR: failed (the error follows)") || strings.Contains(got, "no such file") {
		t.Errorf("display:\n%s", got)
	}
}

// Quiet: no display, and every method is safe on it.
func TestQuiet(t *testing.T) {
	d := New(os.Stderr, true, "x")
	if d != nil {
		t.Fatal("quiet display is not nil")
	}
	s := d.Step("x")
	s.Notef("n")
	s.Done(nil)
	p := d.Push("t", nil)
	if p.Updates() != nil {
		t.Error("quiet push has an updates channel")
	}
	p.Finish(nil)
	d.Close()
}

// Two pushes at once (wrap -f): a blob line names no repository and is
// left out; manifest lines go to their own push; After's output waits for
// nothing in a pipe.
func TestConcurrentPushes(t *testing.T) {
	d, out := plainDisplay(t)
	a := d.Push("reg.example/a:1-jennifer", nil)
	b := d.Push("reg.example/b:1-jennifer", nil)
	logs.Progress.Printf("pushed blob: sha256:%s", strings.Repeat("f", 64))
	logs.Progress.Printf("reg.example/b:1-jennifer: digest: sha256:%s size: 400", strings.Repeat("e", 64))
	close(a.Updates())
	close(b.Updates())
	a.Finish(nil)
	b.Finish(nil)
	got := out()
	if strings.Contains(got, "uploaded sha256:ffff") {
		t.Errorf("a blob line was given to one of two pushes:\n%s", got)
	}
	if strings.Count(got, "tagged reg.example/b:1-jennifer") != 1 || strings.Contains(got, "tagged reg.example/a") {
		t.Errorf("manifest line not on its own push:\n%s", got)
	}
}
