package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"
)

const blobPath = "/v2/app/blobs/sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// backend is a stand-in registry: blob GETs return 1000 bytes, uploads
// echo what they received in a header.
func backend(t *testing.T) (*Proxy, *[]byte) {
	t.Helper()
	h, got := backendHandler()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	p, err := New(strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, got
}

func backendHandler() (http.Handler, *[]byte) {
	var got []byte
	blob := bytes.Repeat([]byte("abcdefghij"), 100)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == blobPath:
			w.Header().Set("Content-Length", "1000")
			w.Write(blob)
		case r.Method == http.MethodPatch:
			got, _ = io.ReadAll(r.Body)
			w.Header().Set("Location", "http://"+r.Host+"/v2/app/blobs/uploads/next")
			w.WriteHeader(http.StatusAccepted)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}), &got
}

// The registry behind the proxy is an address, a URL or an in-process
// handler; faults and pass-through work the same for each.
func TestNewTakesAddressURLOrHandler(t *testing.T) {
	h, _ := backendHandler()
	srv := httptest.NewServer(h)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct {
		name string
		new  func() (*Proxy, error)
	}{
		{"address", func() (*Proxy, error) { return New(addr) }},
		{"URL", func() (*Proxy, error) { return New(srv.URL) }},
		{"handler", func() (*Proxy, error) { return NewHandler(h) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.new()
			if err != nil {
				t.Fatal(err)
			}
			if tc.name != "handler" && p.Target() != addr {
				t.Errorf("Target() = %q, want %q", p.Target(), addr)
			}
			p.Add(Rule{Method: "GET", Path: PathBlob, Kind: Truncate, After: 10})
			if _, b, err := get(t, p, blobPath); err != nil || len(b) != 10 {
				t.Errorf("faulted GET: %d bytes, %v", len(b), err)
			}
			if _, b, err := get(t, p, blobPath); err != nil || len(b) != 1000 {
				t.Errorf("GET: %d bytes, %v", len(b), err)
			}
			// The registry itself answers without the proxy.
			resp, err := http.Get("http://" + p.Target() + blobPath)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			p.Close()
			if tc.name == "handler" {
				if _, err := http.Get("http://" + p.Target() + "/v2/"); err == nil {
					t.Error("the handler's server still answers after Close")
				}
			}
		})
	}
	for _, bad := range []string{"https://" + addr, srv.URL + "/v2/"} {
		if p, err := New(bad); err == nil {
			p.Close()
			t.Errorf("New(%q) accepted", bad)
		}
	}
}

func get(t *testing.T, p *Proxy, path string) (*http.Response, []byte, error) {
	t.Helper()
	resp, err := http.Get("http://" + p.Addr() + path)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestSetPointStatusNthAndTimes(t *testing.T) {
	p, _ := backend(t)
	p.Add(Rule{Method: "GET", Path: PathPing, Nth: 2, Times: 2, Kind: Status503})
	var codes []int
	for i := 0; i < 5; i++ {
		resp, _, err := get(t, p, "/v2/")
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, resp.StatusCode)
	}
	want := []int{200, 503, 503, 200, 200}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("codes %v, want %v", codes, want)
		}
	}
	s := p.Stats()
	if s.Requests != 5 || s.Faults[Status503] != 2 || s.Total() != 2 {
		t.Errorf("stats %v", s)
	}
}

func TestPersistentAnd429RetryAfter(t *testing.T) {
	p, _ := backend(t)
	p.Add(Rule{Path: PathPing, Times: -1, Kind: Status429, RetryAfter: 7})
	for i := 0; i < 3; i++ {
		resp, _, err := get(t, p, "/v2/")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
			t.Fatalf("got %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
}

func TestBlobGetTruncateCorruptReset(t *testing.T) {
	p, _ := backend(t)
	p.Add(Rule{Method: "GET", Path: PathBlob, Kind: Truncate, After: 100},
		Rule{Method: "GET", Path: PathBlob, Nth: 2, Kind: Corrupt, After: 10},
		Rule{Method: "GET", Path: PathBlob, Nth: 3, Kind: Reset, After: 100})
	_, b, err := get(t, p, blobPath)
	if err != nil || len(b) != 100 {
		t.Fatalf("truncate: %d bytes, %v", len(b), err)
	}
	_, b, err = get(t, p, blobPath)
	if err != nil || len(b) != 1000 || b[10] == 'a' || b[11] != 'b' {
		t.Fatalf("corrupt: %d bytes, byte 10 %q, %v", len(b), b[10], err)
	}
	_, b, err = get(t, p, blobPath)
	if err == nil {
		t.Fatalf("reset: read %d bytes without error", len(b))
	}
	_, b, err = get(t, p, blobPath)
	if err != nil || len(b) != 1000 {
		t.Fatalf("4th GET: %d bytes, %v", len(b), err)
	}
}

func TestUploadCorruptAndReset(t *testing.T) {
	p, got := backend(t)
	p.Add(Rule{Method: "PATCH", Path: PathUpload, Kind: CorruptUpload, After: 3},
		Rule{Method: "PATCH", Path: PathUpload, Nth: 2, Kind: Reset, After: 4096})
	body := bytes.Repeat([]byte{'x'}, 64<<10)
	req, _ := http.NewRequest(http.MethodPatch, "http://"+p.Addr()+"/v2/app/blobs/uploads/u1", bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(*got) != len(body) || (*got)[3] == 'x' || (*got)[4] != 'x' {
		t.Fatalf("forwarded %d bytes, byte 3 %q", len(*got), (*got)[3])
	}
	req, _ = http.NewRequest(http.MethodPatch, "http://"+p.Addr()+"/v2/app/blobs/uploads/u2", bytes.NewReader(body))
	resp, err = http.DefaultClient.Do(req)
	if err == nil {
		t.Logf("status %d", resp.StatusCode)
	}
	// How a reset shows depends on where the client is when it lands: a
	// read error, a write error on the reset socket, or the transport's own
	// "use of closed network connection" once it noticed.
	if err == nil || !(errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "broken pipe") || strings.Contains(err.Error(), "use of closed network connection")) {
		t.Fatalf("reset mid-upload: err %v", err)
	}
}

func TestStallEndsWithClient(t *testing.T) {
	p, _ := backend(t)
	p.Add(Rule{Path: PathPing, Kind: Stall, Stall: time.Minute})
	c := &http.Client{Timeout: 200 * time.Millisecond}
	start := time.Now()
	_, err := c.Get("http://" + p.Addr() + "/v2/")
	if err == nil {
		t.Fatal("stalled request answered")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("client timeout not honoured: %s", time.Since(start))
	}
}

func TestRandomIsSeeded(t *testing.T) {
	run := func() Stats {
		p, _ := backend(t)
		p.Random(42, 0.5, time.Millisecond, Status500, Status502, Status429)
		for i := 0; i < 200; i++ {
			get(t, p, "/v2/")
		}
		return p.Stats()
	}
	a, b := run(), run()
	if a.String() != b.String() {
		t.Fatalf("same seed, different faults: %v vs %v", a, b)
	}
	if a.Total() < 60 || a.Total() > 140 {
		t.Errorf("p=0.5 over 200 requests injected %d", a.Total())
	}
	if a.Faults[Truncate] != 0 {
		t.Errorf("kinds not restricted: %v", a)
	}
}

// Requests lists what the proxy received, with the status it began to
// send: a forwarded answer, an injected one, one cut after its header,
// and an upload cut before any answer (0).
func TestRequestsLogged(t *testing.T) {
	p, _ := backend(t)
	p.Add(Rule{Method: "GET", Path: PathPing, Nth: 2, Kind: Status503},
		Rule{Method: "GET", Path: PathBlob, Kind: Reset},
		Rule{Method: "PATCH", Path: PathUpload, Kind: Reset, After: 10})
	for range 2 {
		if _, _, err := get(t, p, "/v2/?x=1"); err != nil {
			t.Fatal(err)
		}
	}
	get(t, p, blobPath) // cut mid-body: the error is the point
	const upload = "/v2/app/blobs/uploads/u1"
	req, err := http.NewRequest(http.MethodPatch, "http://"+p.Addr()+upload, bytes.NewReader(make([]byte, 4096)))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the upload was answered %s, want the connection reset", resp.Status)
	}
	want := []Request{{"GET", "/v2/?x=1", 200}, {"GET", "/v2/?x=1", 503}, {"GET", blobPath, 200}, {"PATCH", upload, 0}}
	got := p.Requests()
	if len(got) != len(want) {
		t.Fatalf("requests %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
