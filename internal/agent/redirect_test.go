package agent

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// seenRequest is what a test server saw of a request.
type seenRequest struct {
	url, auth, referer, cookie string
}

// recordingServer starts an HTTP server on addr ("127.0.0.2:0") that
// records every request and answers with handle.
func recordingServer(t *testing.T, addr string, handle http.HandlerFunc) (*httptest.Server, func() []seenRequest) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	var mu sync.Mutex
	var seen []seenRequest
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, seenRequest{r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("Referer"), r.Header.Get("Cookie")})
		mu.Unlock()
		handle(w, r)
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, func() []seenRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]seenRequest(nil), seen...)
	}
}

// An agent URL with user:password and a token in its query, redirected to
// another server (another address, or only another port): that server
// sees neither, nor a Referer naming the first URL. A redirect within the
// first server keeps the credentials, which a protected view server needs.
func TestURLRedirectKeepsSecretsAtHome(t *testing.T) {
	zip := makeZip(t, sampleAgent(), false)
	for _, other := range []string{"127.0.0.2:0", "127.0.0.1:0"} {
		t.Run(other, func(t *testing.T) {
			storage, storageSaw := recordingServer(t, other, func(w http.ResponseWriter, r *http.Request) {
				w.Write(zip)
			})
			view, viewSaw := recordingServer(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/download/agent/java/latest":
					// The token goes along, as a view server would keep it.
					http.Redirect(w, r, "/download/agent/java/5.6.4.2?"+r.URL.RawQuery, http.StatusFound)
				default:
					http.Redirect(w, r, storage.URL+"/blobs/agent.zip", http.StatusFound)
				}
			})
			url := strings.Replace(view.URL, "http://", "http://user:s3cret@", 1) + "/download/agent/java/latest?token=SECRET"
			bundleOf(t, url, Options{CacheDir: t.TempDir(), HTTPClient: view.Client()})

			v := viewSaw()
			if len(v) != 2 || v[1].auth == "" || v[1].referer != "" || !strings.Contains(v[1].url, "SECRET") {
				t.Errorf("view server: want 2 requests, the second (same origin) with credentials and token, no Referer: %+v", v)
			}
			s := storageSaw()
			if len(s) != 1 {
				t.Fatalf("storage server saw %d requests, want 1", len(s))
			}
			if got := s[0]; got.url != "/blobs/agent.zip" || got.auth != "" || got.referer != "" || got.cookie != "" || strings.Contains(got.url, "SECRET") {
				t.Errorf("storage server saw %+v: credentials, query or Referer crossed to another host", got)
			}
		})
	}
}
