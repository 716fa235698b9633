package agentlayer

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// TestSideBySideSameBytesInOrder: both writers get every byte, in order,
// whatever the chunk sizes (small ones inline, large ones side by side).
func TestSideBySideSameBytesInOrder(t *testing.T) {
	var main, side, want bytes.Buffer
	w, stop := sideBySide(&main, &side)
	defer stop()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		n := r.IntN(3 * sideMin)
		p := make([]byte, n)
		for j := range p {
			p[j] = byte(r.Uint32())
		}
		want.Write(p)
		if m, err := w.Write(p); err != nil || m != n {
			t.Fatalf("write %d: %d, %v", i, m, err)
		}
		// The caller reuses its buffer as soon as Write returns.
		clear(p)
	}
	if !bytes.Equal(main.Bytes(), want.Bytes()) || !bytes.Equal(side.Bytes(), want.Bytes()) {
		t.Fatal("a writer got other bytes than were written")
	}
}

type failingWriter struct{}

var errSide = errors.New("side failed")

func (failingWriter) Write(p []byte) (int, error) { return 0, errSide }

// TestSideBySideErrors: a failure of either writer is the write's error.
func TestSideBySideErrors(t *testing.T) {
	for _, big := range []bool{false, true} {
		n := 10
		if big {
			n = 2 * sideMin
		}
		var ok bytes.Buffer
		w, stop := sideBySide(&ok, failingWriter{})
		if _, err := w.Write(make([]byte, n)); !errors.Is(err, errSide) {
			t.Errorf("side fails, %d bytes: %v", n, err)
		}
		stop()
		w, stop = sideBySide(failingWriter{}, &ok)
		if _, err := w.Write(make([]byte, n)); !errors.Is(err, errSide) {
			t.Errorf("main fails, %d bytes: %v", n, err)
		}
		stop()
	}
}
