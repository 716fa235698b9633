package main

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Credentials in an agent URL (http://user:secret@host/...?token=...) are
// used for the download and appear nowhere else: not in the plan (text or
// JSON), not in labels, env or any layer of the wrapped image, not in
// progress output, and not in error messages.
func TestAgentURLCredentialsNeverLeak(t *testing.T) {
	const password, token = "pa55-S3CRET-word", "tok3n-QWERTY-42"
	zipData := zipDir(t, sampleAgentDir(t), "agent.java")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "user" || p != password || r.URL.Query().Get("token") != token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/download/agent/java/") {
			http.NotFound(w, r)
			return
		}
		w.Write(zipData)
	}))
	defer srv.Close()
	withCreds := func(path string) string {
		return strings.Replace(srv.URL, "http://", "http://user:"+password+"@", 1) + path + "?token=" + token
	}
	leaks := func(what, s string) {
		t.Helper()
		if strings.Contains(s, password) || strings.Contains(s, token) {
			t.Errorf("%s leaks a credential:\n%s", what, s)
		}
	}

	dir := sampleLayout(t)
	src := "oci:" + dir + ":app-1.0"
	agentURL := withCreds("/download/agent/java/5.6.4.2")
	for _, format := range []string{"json", "text"} {
		r := jbuild(t, "plan", src, "--agent", agentURL, "--server-address", "10.0.0.1", "-o", format)
		if r.code != 0 {
			t.Fatalf("plan -o %s: exit %d: %s", format, r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, srv.URL+"/download/agent/java/5.6.4.2") {
			t.Errorf("plan -o %s does not name the agent URL (without credentials):\n%s", format, r.stdout)
		}
		leaks("plan -o "+format+" stdout", r.stdout)
		leaks("plan -o "+format+" stderr", r.stderr)
	}

	target := filepath.Join(t.TempDir(), "out")
	r := jbuild(t, "wrap", src, "-t", "oci:"+target+":app-1.0-jennifer", "--agent", agentURL, "--server-address", "10.0.0.1")
	if r.code != 0 {
		t.Fatalf("wrap: exit %d: %s", r.code, r.stderr)
	}
	leaks("wrap stdout", r.stdout)
	leaks("wrap stderr", r.stderr)
	// Every blob of the output: manifests, config (labels, env) and layers,
	// decompressed.
	n := 0
	filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if zr, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			if u, err := io.ReadAll(zr); err == nil {
				b = u
			}
		}
		leaks(p, string(b))
		n++
		return nil
	})
	if n < 5 {
		t.Errorf("only %d files in the wrapped layout", n)
	}

	// Errors: a 404, wrong credentials and a closed port.
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := strings.Replace(closed.URL, "http://", "http://user:"+password+"@", 1) + "/a.zip?token=" + token
	closed.Close()
	for _, u := range []string{withCreds("/nope"), strings.Replace(agentURL, password, password+"x", 1), closedURL} {
		r := jbuild(t, "plan", src, "--agent", u, "--server-address", "10.0.0.1")
		if r.code == 0 {
			t.Errorf("plan with %s succeeded", u)
		}
		leaks("error for a failing agent URL", r.stdout+r.stderr)
	}
}

// zipDir zips dir as prefix/... (what the view server serves).
func zipDir(t *testing.T, dir, prefix string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		w, err := zw.Create(prefix + "/" + filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}
