package agent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Tests try again at once: the pause between attempts is not what they
// check, and the package's tests would otherwise wait seconds.
func init() { retryDelay = time.Millisecond }

// openWithin runs Open, failing the test if it has not returned within
// limit (today's hang would otherwise last until go test's own timeout).
func openWithin(t *testing.T, limit time.Duration, spec string, opts Options) (Source, error) {
	t.Helper()
	type result struct {
		s   Source
		err error
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		s, err := Open(ctx, spec, opts)
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		t.Logf("Open returned after %s", time.Since(start).Round(time.Millisecond))
		return r.s, r.err
	case <-time.After(limit):
		t.Fatalf("Open still running after %s: the download has no timeout", limit)
		return nil, nil
	}
}

// checkDownloadError checks that a failed download names the URL without
// its token, says why, and left no file in the cache.
func checkDownloadError(t *testing.T, err error, srv *httptest.Server, path, why, cache string) {
	t.Helper()
	if err == nil {
		t.Fatal("download accepted")
	}
	msg := err.Error()
	if !strings.Contains(msg, "downloading agent from "+srv.URL+path+":") || strings.Contains(msg, "SECRET") || !strings.Contains(msg, why) {
		t.Errorf("error %q: want the URL without its token, and %q", msg, why)
	}
	if got := listFiles(t, cache); len(got) != 0 {
		t.Errorf("failed download left files in the cache: %v", got)
	}
}

// A server that accepts the connection and never answers: each attempt
// gives up after HeaderTimeout, and there are DownloadAttempts of them.
func TestURLServerNeverAnswers(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		<-r.Context().Done()
	}))
	defer srv.Close()
	cache := t.TempDir()
	opts := Options{CacheDir: cache, HTTPClient: srv.Client(), HeaderTimeout: 200 * time.Millisecond, DownloadAttempts: 2}
	_, err := openWithin(t, 10*time.Second, srv.URL+"/download/agent/java/latest?token=SECRET", opts)
	checkDownloadError(t, err, srv, "/download/agent/java/latest", "no response within 200ms, tried 2 times", cache)
	if n := requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2 attempts", n)
	}
}

// A server that sends the headers and part of the body, then stalls: the
// attempt gives up after IdleTimeout without bytes, and the part already
// received never reaches the cache.
func TestURLStallsMidBody(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Length", "1000000")
		w.Write(make([]byte, 64<<10))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	cache := t.TempDir()
	opts := Options{CacheDir: cache, HTTPClient: srv.Client(), IdleTimeout: 200 * time.Millisecond}
	_, err := openWithin(t, 10*time.Second, srv.URL+"/download/agent/java/latest?token=SECRET", opts)
	checkDownloadError(t, err, srv, "/download/agent/java/latest", "stalled: no data for 200ms after 65536 bytes, tried 3 times", cache)
	if n := requests.Load(); n != 3 {
		t.Errorf("%d requests, want the default 3 attempts", n)
	}
}

// A slow download that keeps moving is not a stall: the idle timeout
// restarts with every byte, and the header timeout ends with the headers.
func TestURLSlowDownloadIsNotStalled(t *testing.T) {
	zip := makeZip(t, sampleAgent(), false)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(zip)))
		for i := 0; i < len(zip); i += len(zip)/6 + 1 {
			w.Write(zip[i:min(i+len(zip)/6+1, len(zip))])
			w.(http.Flusher).Flush()
			time.Sleep(100 * time.Millisecond)
		}
	}))
	defer srv.Close()
	opts := Options{CacheDir: t.TempDir(), HTTPClient: srv.Client(), HeaderTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}
	if _, err := openWithin(t, 10*time.Second, srv.URL+"/download/agent/java/latest", opts); err != nil {
		t.Fatal(err)
	}
}

// A 5xx is tried again (and the second attempt's archive is used); a 404
// is not: asking again gives the same answer.
func TestURLRetriesOnlyWhatMayPass(t *testing.T) {
	zip := makeZip(t, sampleAgent(), false)
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		switch {
		case strings.HasSuffix(r.URL.Path, "/missing"):
			http.NotFound(w, r)
		case n == 1:
			http.Error(w, "restarting", http.StatusServiceUnavailable)
		default:
			w.Write(zip)
		}
	}))
	defer srv.Close()
	opts := Options{CacheDir: t.TempDir(), HTTPClient: srv.Client()}
	if _, err := openWithin(t, 10*time.Second, srv.URL+"/download/agent/java/latest", opts); err != nil {
		t.Fatalf("503 then 200: %v", err)
	}
	if n := requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2 (503, then the archive)", n)
	}
	requests.Store(0)
	_, err := openWithin(t, 10*time.Second, srv.URL+"/download/agent/java/missing", opts)
	if err == nil || !strings.Contains(err.Error(), "404") || strings.Contains(err.Error(), "tried") || requests.Load() != 1 {
		t.Errorf("404: %v after %d requests, want one request", err, requests.Load())
	}
}
