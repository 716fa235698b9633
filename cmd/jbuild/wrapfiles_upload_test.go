package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// wrap -f over images of several repositories of one registry uploads the
// agent layer once, into one repository, and gives it to the others by a
// cross-repository mount, never by another upload (the wraps run at once).
// Counted at the registry, through a proxy that logs every request.
func TestWrapFilesUploadsTheAgentOnce(t *testing.T) {
	reg := testenv.Registry(t)
	proxy, log := loggingProxy(t, reg)
	repos := []string{"up/a", "up/b", "up/c"}
	doc := "kind: Pod\nspec:\n  containers:\n"
	for _, r := range repos {
		testenv.PushJavaLike(t, reg+"/"+r+":1")
		doc += "  - {name: " + filepath.Base(r) + ", image: " + proxy + "/" + r + ":1}\n"
	}
	path := filepath.Join(t.TempDir(), "pod.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	res := jbuild(t, "wrap", "-f", path, "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5")
	if res.code != 0 {
		t.Fatalf("wrap -f: exit %d\nstderr %s", res.code, res.stderr)
	}

	// The agent layer, found by its diffID label in every output.
	var agent v1.Hash
	for _, r := range repos {
		img := testenv.Image(t, reg+"/"+r+":1-jennifer")
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		diffID, err := v1.NewHash(cf.Config.Labels[buildplan.LabelLayer])
		if err != nil {
			t.Fatalf("%s: agent layer label: %v", r, err)
		}
		l, err := img.LayerByDiffID(diffID)
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		if agent != (v1.Hash{}) && d != agent {
			t.Fatalf("%s holds agent layer %s, the others %s", r, d, agent)
		}
		agent = d
	}

	uploads, mounts := 0, 0
	for _, e := range log.all() {
		u, err := url.Parse(e.uri)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		switch {
		case e.method == http.MethodPut && q.Get("digest") == agent.String():
			uploads++
		case e.method == http.MethodPost && q.Get("mount") == agent.String() && e.status == http.StatusCreated:
			mounts++
		}
	}
	if uploads != 1 || mounts != len(repos)-1 {
		t.Errorf("agent layer %s: %d uploads and %d mounts, want 1 and %d; requests:\n%s", agent, uploads, mounts, len(repos)-1, log)
	}
}

// requestLog is what a logging proxy saw.
type requestLog struct {
	mu      sync.Mutex
	entries []logEntry
}

type logEntry struct {
	method, uri string
	status      int
}

func (l *requestLog) add(e logEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, e)
}

func (l *requestLog) all() []logEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]logEntry(nil), l.entries...)
}

func (l *requestLog) String() string {
	var b strings.Builder
	for _, e := range l.all() {
		b.WriteString(e.method + " " + e.uri + " " + http.StatusText(e.status) + "\n")
	}
	return b.String()
}

// loggingProxy serves registry reg on another loopback address and logs
// each request with its answer's status.
func loggingProxy(t *testing.T, reg string) (string, *requestLog) {
	t.Helper()
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: reg})
	log := &requestLog{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		rp.ServeHTTP(sw, r)
		log.add(logEntry{method: r.Method, uri: r.URL.RequestURI(), status: sw.status})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), log
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
