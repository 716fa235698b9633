package agentlayer

import (
	"bytes"
	"errors"
	"testing"
)

type failAfter struct {
	bytes.Buffer
	limit int
}

func (f *failAfter) Write(p []byte) (int, error) {
	if f.Len()+len(p) > f.limit {
		return 0, errors.New("disk full")
	}
	return f.Buffer.Write(p)
}

// Writes arrive whole and in order, however they are sized; the
// destination's first error is returned by Close.
func TestAsyncWriter(t *testing.T) {
	var want, got bytes.Buffer
	a := newAsyncWriter(&got)
	for i := range 300 {
		p := bytes.Repeat([]byte{byte(i)}, i*997) // up to ~300 KB, past one chunk
		want.Write(p)
		if n, err := a.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("got %d bytes, want the %d written, in order", got.Len(), want.Len())
	}

	f := &failAfter{limit: 100 << 10}
	a = newAsyncWriter(f)
	a.Write(make([]byte, 1<<20))
	if err := a.Close(); err == nil || err.Error() != "disk full" {
		t.Errorf("Close = %v; want the destination's error", err)
	}
}
