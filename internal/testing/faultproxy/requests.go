package faultproxy

import (
	"bufio"
	"net"
	"net/http"
)

// Request is one request the proxy received: its method, its URI as sent
// (path and query), and the status of the answer it began to send (0: none
// yet, or the connection was cut before any).
type Request struct {
	Method, URI string
	Status      int
}

// Requests returns every request the proxy has received so far, in the
// order they arrived: tests count what reached the registry (an upload, a
// mount and whether it was taken) without a proxy of their own. A request
// is listed on arrival and its status set before the answer's header
// leaves, so a client that has its answer finds it here complete.
func (p *Proxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Request(nil), p.requests...)
}

// logRequest lists r and returns the writer that sets its status.
func (p *Proxy) logRequest(w http.ResponseWriter, r *http.Request) *statusRecorder {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = append(p.requests, Request{Method: r.Method, URI: r.URL.RequestURI()})
	return &statusRecorder{ResponseWriter: w, p: p, i: len(p.requests) - 1}
}

// statusRecorder sets its request's status as the answer starts; a fault
// that hangs up still reaches the connection (Flush, Hijack).
type statusRecorder struct {
	http.ResponseWriter
	p       *Proxy
	i       int
	written bool
}

func (w *statusRecorder) note(code int) {
	if w.written {
		return
	}
	w.written = true
	w.p.mu.Lock()
	w.p.requests[w.i].Status = code
	w.p.mu.Unlock()
}

func (w *statusRecorder) WriteHeader(code int) {
	w.note(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	w.note(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
