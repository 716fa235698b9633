package runcheck

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// server accepts agent connections and keeps what the first one sent,
// read until a newline, 4 KiB, the connection's end or deadline.
type server struct {
	ln        net.Listener
	deadline  time.Time
	connected chan struct{} // closed at the first connection
	once      sync.Once
	mu        sync.Mutex
	first     []byte
	firstDone chan struct{} // closed when the first connection was read
	wg        sync.WaitGroup
}

func serve(ln net.Listener, deadline time.Time) *server {
	s := &server{ln: ln, deadline: deadline, connected: make(chan struct{}), firstDone: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			first := false
			s.once.Do(func() { first = true; close(s.connected) })
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer conn.Close()
				if !first {
					return
				}
				defer close(s.firstDone)
				conn.SetReadDeadline(s.deadline)
				buf := make([]byte, 0, 4096)
				tmp := make([]byte, 4096)
				for len(buf) < cap(buf) {
					n, err := conn.Read(tmp[:cap(buf)-len(buf)])
					buf = append(buf, tmp[:n]...)
					s.mu.Lock()
					s.first = buf
					s.mu.Unlock()
					if err != nil || strings.Contains(string(buf), "\n") {
						return
					}
				}
			}()
		}
	}()
	return s
}

// firstBytes waits for the first connection to be read, until the
// server's deadline at the latest.
func (s *server) firstBytes(ctx context.Context) []byte {
	t := time.NewTimer(time.Until(s.deadline))
	defer t.Stop()
	select {
	case <-s.firstDone:
	case <-t.C:
	case <-ctx.Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.first...)
}

func (s *server) close() {
	s.ln.Close()
	s.wg.Wait()
}

func (s *server) reported() <-chan struct{} { return s.connected }

// report waits for what the first connection sent.
func (s *server) report(ctx context.Context, res *Result) {
	res.FirstBytes = s.firstBytes(ctx)
	res.Report = fmt.Sprintf("sent %q", res.FirstBytes)
}
