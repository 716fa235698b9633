package transport

import (
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// countingTransport counts the HTTPS requests that reach the network.
type countingTransport struct {
	inner http.RoundTripper
	https atomic.Int32
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "https" {
		c.https.Add(1)
	}
	return c.inner.RoundTrip(req)
}

// inProcessRepos starts an in-process registry with n repositories, each
// holding a random image tagged 1.
func inProcessRepos(t *testing.T, n int) (addr string, repos []string) {
	t.Helper()
	addr, stop := testenv.StartInProcessRegistry()
	t.Cleanup(stop)
	for range n {
		repo := repoFor(t, addr)
		testenv.PushImage(t, repo+":1", randomImage(t))
		repos = append(repos, repo)
	}
	return addr, repos
}

// getEach reads image 1 of every repository, each through its own store
// on transport rt, as the calls of one process do.
func getEach(t *testing.T, repos []string, rt http.RoundTripper) {
	t.Helper()
	for _, repo := range repos {
		st, err := Open(mustParse(t, repo+":1"), Options{Registry: RegistryOptions{Transport: rt}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Get(bg); err != nil {
			t.Fatalf("Get %s: %v", repo, err)
		}
		st.Close()
	}
}

// TestPlainHTTPRegistryHandshakesOnce: reading images of several
// repositories of one plain-HTTP registry tries TLS on it once per process,
// not once per ping (ggcr pings once per repository and call).
func TestPlainHTTPRegistryHandshakesOnce(t *testing.T) {
	addr, repos := inProcessRepos(t, 3)
	net := &countingTransport{inner: http.DefaultTransport.(*http.Transport).Clone()}
	getEach(t, repos, net)
	if n := net.https.Load(); n != 1 {
		t.Errorf("%d HTTPS attempts reached the plain-HTTP registry %s for %d repositories, want 1", n, addr, len(repos))
	}
}
