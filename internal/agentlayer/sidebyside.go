package agentlayer

import "io"

// sideBySide returns a writer that writes each large chunk to side (the
// DiffID hash) on another goroutine while it goes to main (compression,
// the layer digest and the upload) on the caller's, and returns when both
// are done with it, so the caller may reuse its buffer at once, as with
// io.MultiWriter. The DiffID is a SHA-256 of the whole tar, as costly as
// the layer digest: done one after the other they made building a 20 MB
// layer one core's work, and the second core waited. Small writes (tar
// headers) go to side inline: handing them over would cost more than
// hashing them. Bytes reach each writer in order, so the sums are the
// same as io.MultiWriter's. stop ends the goroutine.
func sideBySide(main, side io.Writer) (w io.Writer, stop func()) {
	s := &sideWriter{main: main, side: side, work: make(chan []byte), done: make(chan error)}
	go func() {
		for p := range s.work {
			_, err := s.side.Write(p)
			s.done <- err
		}
	}()
	return s, func() { close(s.work) }
}

// sideMin is the smallest chunk handed to the other goroutine.
const sideMin = 16 << 10

type sideWriter struct {
	main, side io.Writer
	work       chan []byte
	done       chan error
}

func (s *sideWriter) Write(p []byte) (int, error) {
	if len(p) < sideMin {
		if _, err := s.side.Write(p); err != nil {
			return 0, err
		}
		return s.main.Write(p)
	}
	s.work <- p
	n, err := s.main.Write(p)
	if serr := <-s.done; err == nil && serr != nil {
		return 0, serr
	}
	return n, err
}
