package agentlayer

import (
	"io"
	"sync"
)

// asyncWriter hands writes to a goroutine, in order, so the producer (tar
// and gzip) does not wait while a hash or the cache file catches up: the
// layer's hashes, its compression and its cache write then use separate
// cores instead of taking turns on one.
type asyncWriter struct {
	w      io.Writer
	chunks chan []byte
	done   chan struct{}
	err    error // set by the goroutine, read after done
}

// asyncChunk is the size of the pooled copies.
const asyncChunk = 64 << 10

var asyncPool = sync.Pool{New: func() any { b := make([]byte, asyncChunk); return &b }}

func newAsyncWriter(w io.Writer) *asyncWriter {
	a := &asyncWriter{w: w, chunks: make(chan []byte, 64), done: make(chan struct{})}
	go a.run()
	return a
}

func (a *asyncWriter) run() {
	defer close(a.done)
	for c := range a.chunks {
		if a.err == nil {
			_, a.err = a.w.Write(c)
		}
		c = c[:cap(c)]
		asyncPool.Put(&c)
	}
}

// Write queues a copy of p. An error of the destination is reported by
// Close; writes after it are dropped.
func (a *asyncWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		bp := asyncPool.Get().(*[]byte)
		k := copy(*bp, p)
		a.chunks <- (*bp)[:k]
		p = p[k:]
	}
	return n, nil
}

// Close waits for every queued write and returns the first error.
func (a *asyncWriter) Close() error {
	close(a.chunks)
	<-a.done
	return a.err
}
