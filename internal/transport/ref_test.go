package transport

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

func TestParseRegistry(t *testing.T) {
	for _, tc := range []struct {
		in       string
		name     string // fully qualified Name()
		repo     string // Context().Name()
		tag      string // TagName()
		isDigest bool
	}{
		{in: "ubuntu", name: "index.docker.io/library/ubuntu:latest", repo: "index.docker.io/library/ubuntu", tag: "latest"},
		{in: "ubuntu:22.04", name: "index.docker.io/library/ubuntu:22.04", repo: "index.docker.io/library/ubuntu", tag: "22.04"},
		{in: "bitnami/tomcat:10", name: "index.docker.io/bitnami/tomcat:10", repo: "index.docker.io/bitnami/tomcat", tag: "10"},
		{in: "docker.io/library/eclipse-temurin:21-jre", name: "index.docker.io/library/eclipse-temurin:21-jre", repo: "index.docker.io/library/eclipse-temurin", tag: "21-jre"},
		{in: "localhost:5000/x", name: "localhost:5000/x:latest", repo: "localhost:5000/x", tag: "latest"},
		{in: "localhost:5000/team/app:1.2", name: "localhost:5000/team/app:1.2", repo: "localhost:5000/team/app", tag: "1.2"},
		{in: "127.0.0.1:5000/app:v1", name: "127.0.0.1:5000/app:v1", repo: "127.0.0.1:5000/app", tag: "v1"},
		{in: "myacr.azurecr.io/app/web:2024.01", name: "myacr.azurecr.io/app/web:2024.01", repo: "myacr.azurecr.io/app/web", tag: "2024.01"},
		{in: "ghcr.io/org/app@sha256:" + strings.Repeat("a", 64), name: "ghcr.io/org/app@sha256:" + strings.Repeat("a", 64), repo: "ghcr.io/org/app", isDigest: true},
		// The official Docker image on Docker Hub is a registry reference,
		// not skopeo's docker:// transport.
		{in: "docker:dind", name: "index.docker.io/library/docker:dind", repo: "index.docker.io/library/docker", tag: "dind"},
		{in: "docker", name: "index.docker.io/library/docker:latest", repo: "index.docker.io/library/docker", tag: "latest"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != KindRegistry || r.Registry == nil || r.Path != "" || r.Tag != "" {
				t.Fatalf("Parse(%q) = %+v, want a registry ref", tc.in, r)
			}
			if got := r.Registry.Name(); got != tc.name {
				t.Errorf("Name() = %q, want %q", got, tc.name)
			}
			if got := r.Registry.Context().Name(); got != tc.repo {
				t.Errorf("repository = %q, want %q", got, tc.repo)
			}
			if got := r.TagName(); got != tc.tag {
				t.Errorf("TagName() = %q, want %q", got, tc.tag)
			}
			if _, ok := r.Registry.(name.Digest); ok != tc.isDigest {
				t.Errorf("digest reference = %v, want %v", ok, tc.isDigest)
			}
			// String gives back what the user wrote, and it parses again
			// to the same thing.
			if r.String() != tc.in || r.Name() != tc.in {
				t.Errorf("String() = %q, Name() = %q, want %q", r.String(), r.Name(), tc.in)
			}
			again := mustParse(t, r.String())
			if again.Registry.Name() != r.Registry.Name() {
				t.Errorf("round trip: %q then %q", r.Registry.Name(), again.Registry.Name())
			}
		})
	}
}

func TestParseFileRefs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		kind Kind
		path string
		tag  string
	}{
		{"oci:out", KindOCILayout, "out", ""},
		{"oci:/tmp/layout", KindOCILayout, "/tmp/layout", ""},
		{"oci:/tmp/layout:1.0", KindOCILayout, "/tmp/layout", "1.0"},
		{"oci:./rel/dir:v2-jennifer", KindOCILayout, "./rel/dir", "v2-jennifer"},
		{"oci:layout:latest", KindOCILayout, "layout", "latest"},
		{"oci-archive:app.tar", KindOCIArchive, "app.tar", ""},
		{"oci-archive:/srv/images/app.tar:1.2.3", KindOCIArchive, "/srv/images/app.tar", "1.2.3"},
		{"oci-archive:app.tar:" + strings.Repeat("t", 128), KindOCIArchive, "app.tar", strings.Repeat("t", 128)},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tc.kind || r.Path != tc.path || r.Tag != tc.tag || r.Registry != nil {
				t.Fatalf("Parse(%q) = %+v, want kind %s path %q tag %q", tc.in, r, tc.kind, tc.path, tc.tag)
			}
			if r.TagName() != tc.tag {
				t.Errorf("TagName() = %q, want %q", r.TagName(), tc.tag)
			}
			if r.String() != tc.in || r.Name() != tc.in {
				t.Errorf("String() = %q, Name() = %q, want %q", r.String(), r.Name(), tc.in)
			}
			if again := mustParse(t, r.String()); again != r {
				t.Errorf("round trip: %+v then %+v", r, again)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // substrings of the error
	}{
		{"", []string{"empty image reference"}},
		{"oci:", []string{"missing path", "oci:PATH"}},
		{"oci::tag", []string{"missing path"}},
		{"oci-archive:", []string{"missing path", "oci-archive:PATH"}},
		{"oci:dir:bad tag", []string{`invalid tag "bad tag"`}},
		{"oci:dir:x@y", []string{`invalid tag "x@y"`}},
		{"oci-archive:a.tar:" + strings.Repeat("t", 129), []string{"invalid tag"}},
		{"oci:/a:b/c", []string{`tag "b/c" contains '/'`}},
		{"UPPER/Case:1", []string{`image reference "UPPER/Case:1"`, "REGISTRY/REPOSITORY"}},
		{"app:bad tag", []string{"REGISTRY/REPOSITORY[:TAG|@DIGEST]"}},
		{"app@sha256:short", []string{`"app@sha256:short"`}},
		// Recognised transports without a store: a clear message, never a
		// registry called "docker-daemon".
		{"docker://ghcr.io/org/app:1", []string{"docker: transport is not supported yet", "docker-daemon:NAME[:TAG]"}},
		{"docker-daemon:", []string{"missing image name", "docker-daemon:NAME[:TAG]"}},
		{"docker-daemon:My/App:1", []string{`"docker-daemon:My/App:1"`, "docker-daemon:NAME[:TAG]"}},
		{"containerd:", []string{"missing image name", "containerd:NAME[:TAG]"}},
		{"docker-archive:", []string{"missing path", "docker-archive:FILE[:NAME:TAG]"}},
		{"docker-archive::app:1", []string{"missing path"}},
		{"docker-archive:app.tar:app@sha256:" + strings.Repeat("a", 64), []string{"is not a NAME[:TAG]"}},
		{"dir:/tmp/x", []string{"dir: transport is not supported yet"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tc.in, r)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestWithTag(t *testing.T) {
	r := mustParse(t, "localhost:5000/team/app:1.0")
	w, err := r.WithTag("1.0-jennifer")
	if err != nil {
		t.Fatal(err)
	}
	if w.Kind != KindRegistry || w.Registry.Name() != "localhost:5000/team/app:1.0-jennifer" || w.TagName() != "1.0-jennifer" {
		t.Errorf("WithTag = %s (%s)", w, w.Registry.Name())
	}
	if r.TagName() != "1.0" {
		t.Errorf("WithTag changed the receiver: %s", r)
	}
	if again := mustParse(t, w.String()); again.Registry.Name() != w.Registry.Name() {
		t.Errorf("WithTag result does not round trip: %s", again)
	}

	// From a digest reference too: same repository.
	d := mustParse(t, "ghcr.io/org/app@sha256:"+strings.Repeat("b", 64))
	w, err = d.WithTag("v1")
	if err != nil {
		t.Fatal(err)
	}
	if w.Registry.Name() != "ghcr.io/org/app:v1" {
		t.Errorf("WithTag on digest ref = %s", w.Registry.Name())
	}

	if _, err := r.WithTag("bad tag"); err == nil || !strings.Contains(err.Error(), `tag "bad tag"`) {
		t.Errorf("WithTag(bad tag) error = %v", err)
	}

	for _, s := range []string{"oci:/tmp/l:1.0", "oci:/tmp/l", "oci-archive:a.tar:1.0"} {
		f := mustParse(t, s)
		w, err := f.WithTag("2.0")
		if err != nil {
			t.Fatal(err)
		}
		if w.Kind != f.Kind || w.Path != f.Path || w.Tag != "2.0" {
			t.Errorf("%s.WithTag(2.0) = %+v", s, w)
		}
		if f.Tag == "2.0" {
			t.Errorf("WithTag changed the receiver %s", s)
		}
	}
}

func TestSameLocationAndStore(t *testing.T) {
	dir := t.TempDir()
	abs := filepath.Join(dir, "layout")
	rel, err := filepath.Rel(mustGetwd(t), abs)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		a, b            string
		location, store bool
	}{
		{"ubuntu", "docker.io/library/ubuntu:latest", true, true},
		{"ubuntu:22.04", "index.docker.io/library/ubuntu:22.04", true, true},
		{"ubuntu:22.04", "ubuntu:24.04", false, true},
		{"ubuntu:22.04", "ubuntu@sha256:" + strings.Repeat("c", 64), false, true},
		{"ubuntu:22.04", "debian:12", false, false},
		{"localhost:5000/app:1", "localhost:5001/app:1", false, false},
		{"oci:" + abs + ":1", "oci:" + rel + ":1", true, true},
		{"oci:" + abs + ":1", "oci:" + abs + "/.:1", true, true},
		{"oci:" + abs + ":1", "oci:" + abs + ":2", false, true},
		{"oci:" + abs, "oci:" + abs + ":1", false, true},
		{"oci:" + abs + ":1", "oci:" + abs + "2:1", false, false},
		{"oci:" + abs + ":1", "oci-archive:" + abs + ":1", false, false},
		{"oci-archive:" + abs + ".tar:1", "oci-archive:" + rel + ".tar:1", true, true},
		{"localhost:5000/x:1", "oci:localhost:5000/x:1", false, false},
	} {
		a, b := mustParse(t, tc.a), mustParse(t, tc.b)
		if got := SameLocation(a, b); got != tc.location {
			t.Errorf("SameLocation(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.location)
		}
		if got := SameLocation(b, a); got != tc.location {
			t.Errorf("SameLocation(%s, %s) = %v, want %v", tc.b, tc.a, got, tc.location)
		}
		if got := SameStore(a, b); got != tc.store {
			t.Errorf("SameStore(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.store)
		}
	}
}

func TestOpenKinds(t *testing.T) {
	for s, want := range map[string]any{
		"localhost:5000/app:1": &registryStore{},
		"oci:/tmp/x:1":         &layoutStore{},
		"oci-archive:x.tar:1":  &archiveStore{},
	} {
		st, err := Open(mustParse(t, s), Options{})
		if err != nil {
			t.Fatal(err)
		}
		switch want.(type) {
		case *registryStore:
			_, ok := st.(*registryStore)
			if !ok {
				t.Errorf("%s opened as %T", s, st)
			}
		case *layoutStore:
			if _, ok := st.(*layoutStore); !ok {
				t.Errorf("%s opened as %T", s, st)
			}
		case *archiveStore:
			if _, ok := st.(*archiveStore); !ok {
				t.Errorf("%s opened as %T", s, st)
			}
		}
		if st.Ref().String() != s {
			t.Errorf("Ref() = %s, want %s", st.Ref(), s)
		}
		if err := st.Close(); err != nil {
			t.Errorf("Close of an unused store: %v", err)
		}
	}
	if _, err := Open(Ref{Kind: "dir", Path: "x"}, Options{}); err == nil || !strings.Contains(err.Error(), `unknown transport "dir"`) {
		t.Errorf("Open(dir) error = %v", err)
	}
}
