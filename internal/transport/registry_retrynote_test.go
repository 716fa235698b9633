package transport

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/jbuild-dev/jbuild/internal/testing/faultproxy"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// notesStore is fastStore with RegistryOptions.OnRetry collecting notes.
func notesStore(t *testing.T, ref string) (*registryStore, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var notes []string
	b := transport.Backoff{Duration: 10 * time.Millisecond, Factor: 2, Steps: 4}
	st, err := Open(mustParse(t, ref), Options{Registry: RegistryOptions{Backoff: &b, OnRetry: func(n string) {
		mu.Lock()
		defer mu.Unlock()
		notes = append(notes, n)
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return st.(*registryStore), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), notes...)
	}
}

// Each attempt that failed and will be tried again is told, with the
// request, the registry's answer and the attempts left; the last one is
// not (its error is the command's), and a registry that answers at once
// gives no note at all: not for the plain-HTTP fallback, not for a 404.
func TestRetriesAreTold(t *testing.T) {
	pingAnswers.Clear()
	reg := testenv.Registry(t)
	testenv.PushImage(t, reg+"/note/app:1", randomImage(t))
	p := faultproxy.Start(t, reg)

	st, notes := notesStore(t, p.Addr()+"/note/app:1")
	if _, err := st.Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	missing, notes404 := notesStore(t, p.Addr()+"/note/none:1")
	missing.Get(context.Background())
	if n := append(notes(), notes404()...); len(n) != 0 {
		t.Fatalf("notes without any fault: %q", n)
	}

	p.Add(faultproxy.Rule{Method: "GET", Path: faultproxy.PathManifest, Times: 2, Kind: faultproxy.Status503})
	st, notes = notesStore(t, p.Addr()+"/note/app:1")
	if _, err := st.Get(context.Background()); err != nil {
		t.Fatalf("Get through two 503s: %v", err)
	}
	got := notes()
	t.Logf("notes: %q", got)
	want := []string{"attempt 1 of 4 failed", "attempt 2 of 4 failed"}
	if len(got) != len(want) {
		t.Fatalf("notes %q, want one per failed attempt (2)", got)
	}
	for i, n := range got {
		if !strings.Contains(n, "registry answered GET "+p.Addr()+"/v2/note/app/manifests/1 with 503 Service Unavailable; trying again") || !strings.Contains(n, want[i]) {
			t.Errorf("note %q, want the request, its answer and %q", n, want[i])
		}
	}

	p.Add(faultproxy.Rule{Method: "PUT", Path: faultproxy.PathManifest, Times: -1, Kind: faultproxy.Status500})
	st, notes = notesStore(t, p.Addr()+"/note/persistent:1")
	if err := st.Put(context.Background(), &Artifact{Image: randomImage(t)}); err == nil {
		t.Fatal("Put through a persistent 500 succeeded")
	}
	if n := notes(); len(n) != 3 || !strings.Contains(n[2], "attempt 3 of 4 failed") {
		t.Errorf("notes %q, want three (the fourth attempt's failure is the error)", n)
	}

	// A cleanup made withoutRetries is tried once: its failure is not
	// followed by another attempt, so it is not told as one.
	p.Add(faultproxy.Rule{Method: "DELETE", Path: faultproxy.PathUpload, Times: -1, Kind: faultproxy.Status503})
	st, notes = notesStore(t, p.Addr()+"/note/cleanup:1")
	req, err := http.NewRequestWithContext(withoutRetries(context.Background()), http.MethodDelete, "http://"+p.Addr()+"/v2/note/cleanup/blobs/uploads/none", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := st.retrying().RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("DELETE: %v, %v; want the 503 once", resp, err)
	}
	resp.Body.Close()
	if n := notes(); len(n) != 0 {
		t.Errorf("notes %q for a request made withoutRetries, want none", n)
	}
}
