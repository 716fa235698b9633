package transport

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

// processStart is when the first registry request of this process could
// have begun: the trace below prints offsets from it.
var processStart = time.Now()

// traceRequests logs every registry request (method, path, status, start
// offset and duration) to stderr when $JBUILD_HTTPTRACE is set: a developer
// aid for `make bench` investigations, next to $JBUILD_CPUPROFILE and
// $JBUILD_TRACE. It never logs headers, so no credential is printed.
func traceRequests(inner http.RoundTripper) http.RoundTripper {
	if os.Getenv("JBUILD_HTTPTRACE") == "" {
		return inner
	}
	return requestTracer{inner}
}

type requestTracer struct{ inner http.RoundTripper }

func (t requestTracer) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.inner.RoundTrip(req)
	status := "error"
	if err == nil {
		status = resp.Status
	}
	fmt.Fprintf(os.Stderr, "http %7.1fms %6.1fms %s %s://%s%s %s\n",
		float64(start.Sub(processStart).Microseconds())/1000, float64(time.Since(start).Microseconds())/1000,
		req.Method, req.URL.Scheme, req.URL.Host, req.URL.Path, status)
	return resp, err
}
