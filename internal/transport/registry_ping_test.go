package transport

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// TestRegistryPingedOncePerProcess: a wrap's calls (reading the source,
// the target check, the push client) and further images of the same
// registry ping it once, not once per call.
func TestRegistryPingedOncePerProcess(t *testing.T) {
	pingAnswers.Clear()
	t.Cleanup(pingAnswers.Clear)
	addr, repos := inProcessRepos(t, 3)
	net := &pingCounter{inner: http.DefaultTransport.(*http.Transport).Clone()}
	getEach(t, repos, net)
	if n := net.pings.Load(); n != 1 {
		t.Errorf("%d plain-HTTP pings reached %s for %d repositories, want 1", n, addr, len(repos))
	}
	if net.requests.Load() < int32(len(repos)) {
		t.Errorf("only %d requests reached the registry: the manifests were not read", net.requests.Load())
	}
}

// TestPingChallengeRemembered: a registry that asks for credentials gets
// its challenge remembered as given (ggcr reads the realm from it), and a
// ping that carries credentials, or a request that is not a ping, always
// goes to the registry.
func TestPingChallengeRemembered(t *testing.T) {
	pingAnswers.Clear()
	t.Cleanup(pingAnswers.Clear)
	var pings, others atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			pings.Add(1)
			w.Header().Set("WWW-Authenticate", `Bearer realm="http://`+r.Host+`/token",service="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		others.Add(1)
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	rt := rememberPings(http.DefaultTransport)
	reg, err := name.NewRegistry(strings.TrimPrefix(srv.URL, "http://"), name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		// NewWithContext pings, then fetches a token from the realm (the
		// test server refuses it: what matters is the realm it was sent to).
		_, err := transport.NewWithContext(bg, reg, authn.Anonymous, rt, []string{"repository:x:pull"})
		if err == nil {
			t.Fatalf("call %d: want the token fetch to fail against the test server", i)
		}
		if !strings.Contains(err.Error(), "/token") {
			t.Errorf("call %d: %v: the remembered challenge lost its realm", i, err)
		}
	}
	if n := pings.Load(); n != 1 {
		t.Errorf("%d pings reached the registry for 3 calls, want 1", n)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/", nil)
	req.Header.Set("Authorization", "Basic eDp5")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := pings.Load(); n != 2 {
		t.Errorf("a ping with credentials was answered from memory (%d pings reached the registry, want 2)", n)
	}
	if others.Load() == 0 {
		t.Error("the token request never reached the registry")
	}
}

// pingCounter counts the plain-HTTP pings and other requests that reach
// the network.
type pingCounter struct {
	inner           http.RoundTripper
	pings, requests atomic.Int32
}

func (c *pingCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" {
		if req.URL.Path == "/v2/" {
			c.pings.Add(1)
		} else {
			c.requests.Add(1)
		}
	}
	return c.inner.RoundTrip(req)
}
