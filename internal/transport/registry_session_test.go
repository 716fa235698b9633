package transport

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jbuild-dev/jbuild/internal/testing/faultproxy"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// awaitSpares waits until every prepared session of s is open.
func awaitSpares(t *testing.T, s *registryStore) {
	t.Helper()
	for i, ch := range s.spares {
		r := <-ch
		ch <- r
		if r.err != nil {
			t.Fatalf("prepared session %d: %v", i, r.err)
		}
	}
}

// Close after the tag was written cancels the unused upload sessions with
// one short try: a registry that died (or fails everything) meanwhile must
// not hold a finished wrap for the retries of a cleanup (it took 7 s) nor
// turn it into an error. A session still being opened is not waited for.
func TestCloseBoundedWhenRegistryGone(t *testing.T) {
	const bound = 3 * time.Second
	for _, tc := range []struct {
		name string
		// kill makes the registry behind p unusable once the sessions
		// are prepared (or, with opening, before they are).
		kill    func(p *faultproxy.Proxy)
		opening bool
	}{
		{"registry stopped", func(p *faultproxy.Proxy) { p.Close() }, false},
		{"registry answers 503", func(p *faultproxy.Proxy) {
			p.Add(faultproxy.Rule{Kind: faultproxy.Status503, Times: -1})
		}, false},
		{"upload start stalls", func(p *faultproxy.Proxy) {
			p.Add(faultproxy.Rule{Method: http.MethodPost, Path: faultproxy.PathUploadStart, Kind: faultproxy.Stall, Stall: 20 * time.Second, Times: -1})
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := faultproxy.Start(t, testenv.Registry(t))
			s := streamStore(t, p.Addr()+"/cleanup/app:1")
			if tc.opening {
				// Authenticate first, so only the upload start stalls.
				if _, err := s.pushClient(context.Background()); err != nil {
					t.Fatal(err)
				}
				tc.kill(p)
			}
			s.PrepareBlobs(context.Background(), 2)
			if !tc.opening {
				awaitSpares(t, s)
				tc.kill(p)
			}
			start := time.Now()
			err := s.Close()
			if d := time.Since(start); d > bound {
				t.Errorf("Close took %v; want under %v", d.Round(time.Millisecond), bound)
			}
			if err != nil {
				t.Errorf("Close: %v; want no error (cleanup is best effort)", err)
			}
		})
	}
}
