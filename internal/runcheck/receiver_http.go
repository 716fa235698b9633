package runcheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// Request is one HTTP request the receiver counted as the agent
// reporting.
type Request struct {
	Method      string `json:"method"`
	Path        string `json:"path"`
	ContentType string `json:"contentType,omitempty"`
	// Size is the body's length as read (chunked bodies included); Body
	// holds its first maxBody bytes.
	Size int64  `json:"size"`
	Body []byte `json:"-"`
}

func (r Request) String() string {
	s := r.Method + " " + r.Path
	if r.ContentType != "" {
		s += ", " + r.ContentType
	}
	return fmt.Sprintf("%s, %d bytes", s, r.Size)
}

// maxBody bounds what the receiver keeps of a request body (and reads: a
// larger body is drained, not kept).
const maxBody = 1 << 20

// maxRequests bounds how many requests a run keeps.
const maxRequests = 256

// httpReceiver is the run check's receiver for the otlp-http and http
// kinds: an HTTP server that answers as an OTLP/HTTP collector does
// (200, an empty response of the request's encoding) and notes the
// requests that count.
type httpReceiver struct {
	kind  buildplan.RunCheckKind
	paths []string
	srv   *http.Server
	done  chan struct{}

	once      sync.Once
	connected chan struct{} // closed at the first request that counts
	mu        sync.Mutex
	reqs      []Request
}

func serveHTTP(ln net.Listener, kind buildplan.RunCheckKind, paths []string) *httpReceiver {
	r := &httpReceiver{kind: kind, paths: paths, connected: make(chan struct{}), done: make(chan struct{})}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(r.done)
		r.srv.Serve(ln)
	}()
	return r
}

// counts says whether a request is the agent reporting.
func (r *httpReceiver) counts(req *http.Request) bool {
	if r.kind == buildplan.RunCheckHTTP {
		return true
	}
	return req.Method == http.MethodPost && slices.Contains(r.paths, req.URL.Path)
}

func (r *httpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBody))
	size := int64(len(body))
	if err == nil {
		var n int64
		n, err = io.Copy(io.Discard, req.Body)
		size += n
	}
	if err != nil {
		http.Error(w, "reading the body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if !r.counts(req) {
		http.NotFound(w, req)
		return
	}
	if r.kind == buildplan.RunCheckOTLPHTTP && size == 0 {
		// An export always carries a body; an empty POST is not telemetry.
		http.Error(w, "empty export", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	if len(r.reqs) < maxRequests {
		r.reqs = append(r.reqs, Request{Method: req.Method, Path: req.URL.Path, ContentType: req.Header.Get("Content-Type"), Size: size, Body: body})
	}
	r.mu.Unlock()
	r.once.Do(func() { close(r.connected) })

	// OTLP/HTTP: a successful export is answered 200 with an
	// Export*ServiceResponse in the request's encoding; the empty message
	// is no bytes in protobuf and {} in JSON.
	ct := req.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/json"):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "{}")
	case strings.HasPrefix(ct, "application/x-protobuf"):
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

func (r *httpReceiver) reported() <-chan struct{} { return r.connected }

// requests are the counted requests so far.
func (r *httpReceiver) requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

func (r *httpReceiver) report(_ context.Context, res *Result) {
	res.Requests = r.requests()
	if len(res.Requests) > 0 {
		res.Report = res.Requests[0].String()
	}
}

func (r *httpReceiver) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		r.srv.Close()
	}
	r.srv.Close()
	<-r.done
}
