package transport

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/jbuild-dev/jbuild/internal/testing/faultproxy"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"3": 3 * time.Second, "0": 0, "Wed, 01 Jan 2025 00:00:10 GMT": 10 * time.Second, "Tue, 31 Dec 2024 00:00:00 GMT": 0,
	} {
		if d, ok := parseRetryAfter(v, now); !ok || d != want {
			t.Errorf("%q: %s %v, want %s", v, d, ok, want)
		}
	}
	for _, v := range []string{"", "-1", "soon"} {
		if _, ok := parseRetryAfter(v, now); ok {
			t.Errorf("%q accepted", v)
		}
	}
}

func fastStore(t *testing.T, ref string) *registryStore {
	t.Helper()
	b := transport.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Steps: 4}
	st, err := Open(mustParse(t, ref), Options{Registry: RegistryOptions{Backoff: &b}})
	if err != nil {
		t.Fatal(err)
	}
	return st.(*registryStore)
}

// crane gives up when the registry ping answers 429; jbuild retries it,
// on ggcr's calls and on its own streamed uploads, and waits as long as
// Retry-After asks.
func TestPingAndRetryAfter(t *testing.T) {
	pingAnswers.Clear()
	reg := testenv.Registry(t)
	testenv.PushImage(t, reg+"/retry/ping:1", randomImage(t))
	p := faultproxy.Start(t, reg)
	p.Add(faultproxy.Rule{Method: "GET", Path: faultproxy.PathPing, Times: 2, Kind: faultproxy.Status429, RetryAfter: 1})
	start := time.Now()
	if _, err := fastStore(t, p.Addr()+"/retry/ping:1").Get(context.Background()); err != nil {
		t.Fatalf("Get with a 429 ping: %v", err)
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("two 429s with Retry-After: 1 retried after %s; Retry-After not honoured", d)
	}

	// A new process: its first ping meets the 503 (pings are remembered
	// per process, registry_ping.go).
	pingAnswers.Clear()
	p.Add(faultproxy.Rule{Method: "GET", Path: faultproxy.PathPing, Kind: faultproxy.Status503},
		faultproxy.Rule{Method: "POST", Path: faultproxy.PathUploadStart, Kind: faultproxy.Status502})
	st := fastStore(t, p.Addr()+"/retry/ping:1")
	u, err := st.StartBlob(context.Background(), 0)
	if err != nil {
		t.Fatalf("StartBlob with a 503 ping and a 502 POST: %v (%v)", err, p.Stats())
	}
	data := []byte("streamed blob under faults")
	u.Write(data)
	h := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(data))}
	if err := u.Commit(h); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Faults[faultproxy.Status503] != 1 || s.Faults[faultproxy.Status502] != 1 {
		t.Errorf("faults not on the streamed upload's path: %v", s)
	}
	if w := st.Written(); w.Blobs != 1 || w.Tagged {
		t.Errorf("written %+v, want one blob", w)
	}
}

// A persistent fault fails with the number of attempts made.
func TestPersistentFaultSaysAttempts(t *testing.T) {
	reg := testenv.Registry(t)
	p := faultproxy.Start(t, reg)
	p.Add(faultproxy.Rule{Method: "PUT", Path: faultproxy.PathManifest, Times: -1, Kind: faultproxy.Status500})
	st := fastStore(t, p.Addr()+"/retry/persistent:1")
	err := st.Put(context.Background(), &Artifact{Image: randomImage(t)})
	if err == nil || !strings.Contains(err.Error(), "pushing "+p.Addr()+"/retry/persistent:1: after 4 attempts: ") {
		t.Fatalf("error %v; want pushing REF: after 4 attempts: ...", err)
	}
	if w := st.Written(); w.Tagged || w.TagUncertain || w.Blobs < 2 {
		t.Errorf("written %+v", w)
	}
	if s, _ := faultproxy.Snapshot(reg + "/retry/persistent:1"); s.Exists {
		t.Errorf("tag written despite the failure")
	}
}

// A registry address where nothing listens: one quick retry, then an error
// that says so, instead of the whole backoff and "after 10 attempts".
func TestRefusedConnectionFailsFast(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	// The default backoff (0.5s .. 4s, about 8s in all).
	st, err := Open(mustParse(t, addr+"/nothing/here:1"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = st.Get(context.Background())
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "nothing listens on "+addr) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("error %v; want one saying nothing listens on %s (and still a connection refused underneath)", err, addr)
	}
	if took > 3*time.Second {
		t.Errorf("gave up after %s; want one quick retry (the full backoff is about 8s)", took)
	}
	// ggcr's ping tries https, then http: one attempt each plus the retry.
	if strings.Contains(err.Error(), "after 1") || strings.Contains(err.Error(), "after 4") || strings.Contains(err.Error(), "after 10") {
		t.Errorf("error %v: want at most one retry per scheme", err)
	}
}
