package transport

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseDaemonRefs(t *testing.T) {
	for _, tc := range []struct {
		in     string
		kind   Kind
		path   string
		daemon string // daemonName of the image
		tag    string
		target string // WithTag(tag + "-jennifer")
	}{
		{"docker-daemon:myapp:1.2", KindDockerDaemon, "", "docker.io/library/myapp:1.2", "1.2", "docker-daemon:myapp:1.2-jennifer"},
		{"docker-daemon:myapp", KindDockerDaemon, "", "docker.io/library/myapp:latest", "latest", "docker-daemon:myapp:latest-jennifer"},
		{"docker-daemon:localhost:5000/team/app:1", KindDockerDaemon, "", "localhost:5000/team/app:1", "1", "docker-daemon:localhost:5000/team/app:1-jennifer"},
		{"docker-daemon:app@sha256:" + strings.Repeat("a", 64), KindDockerDaemon, "", "docker.io/library/app@sha256:" + strings.Repeat("a", 64), "", "docker-daemon:app:-jennifer"},
		{"containerd:docker.io/library/app:1", KindContainerd, "", "docker.io/library/app:1", "1", "containerd:docker.io/library/app:1-jennifer"},
		{"containerd:ghcr.io/org/app:2.0", KindContainerd, "", "ghcr.io/org/app:2.0", "2.0", "containerd:ghcr.io/org/app:2.0-jennifer"},
		{"docker-archive:app.tar", KindDockerArchive, "app.tar", "", "", ""},
		{"docker-archive:/srv/app.tar:myapp:1.2", KindDockerArchive, "/srv/app.tar", "docker.io/library/myapp:1.2", "1.2", "docker-archive:/srv/app.tar:myapp:1.2-jennifer"},
		{"docker-archive:app.tar:localhost:5000/app:1", KindDockerArchive, "app.tar", "localhost:5000/app:1", "1", "docker-archive:app.tar:localhost:5000/app:1-jennifer"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r := mustParse(t, tc.in)
			if r.Kind != tc.kind || r.Path != tc.path || r.Registry != nil {
				t.Fatalf("Parse(%q) = %+v, want kind %s path %q", tc.in, r, tc.kind, tc.path)
			}
			if got := daemonName(r.Image); got != tc.daemon {
				t.Errorf("daemonName = %q, want %q", got, tc.daemon)
			}
			if r.TagName() != tc.tag {
				t.Errorf("TagName() = %q, want %q", r.TagName(), tc.tag)
			}
			if r.String() != tc.in || r.Name() != tc.in {
				t.Errorf("String() = %q, Name() = %q, want %q", r.String(), r.Name(), tc.in)
			}
			if again := mustParse(t, r.String()); again.String() != r.String() || daemonName(again.Image) != tc.daemon {
				t.Errorf("round trip: %s then %s", r, again)
			}
			if tc.tag == "" {
				return
			}
			w, err := r.WithTag(tc.tag + "-jennifer")
			if err != nil {
				t.Fatal(err)
			}
			if w.String() != tc.target {
				t.Errorf("WithTag = %s, want %s", w, tc.target)
			}
			if SameLocation(r, w) || !SameStore(r, w) {
				t.Errorf("%s and %s: SameLocation %v, SameStore %v", r, w, SameLocation(r, w), SameStore(r, w))
			}
		})
	}
}

func TestSameLocationDaemons(t *testing.T) {
	for _, tc := range []struct {
		a, b     string
		location bool
	}{
		{"docker-daemon:myapp:1", "docker-daemon:docker.io/library/myapp:1", true},
		{"docker-daemon:myapp", "docker-daemon:myapp:latest", true},
		{"containerd:myapp:1", "containerd:docker.io/library/myapp:1", true},
		{"docker-daemon:myapp:1", "containerd:myapp:1", false},
		{"docker-daemon:myapp:1", "myapp:1", false},
		{"docker-archive:a.tar:myapp:1", "docker-archive:./a.tar:docker.io/library/myapp:1", true},
		{"docker-archive:a.tar:myapp:1", "docker-archive:b.tar:myapp:1", false},
	} {
		a, b := mustParse(t, tc.a), mustParse(t, tc.b)
		if got := SameLocation(a, b); got != tc.location {
			t.Errorf("SameLocation(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.location)
		}
	}
}

func TestOpenDaemonKinds(t *testing.T) {
	for s, want := range map[string]string{
		"docker-daemon:app:1":      "*transport.dockerStore",
		"containerd:app:1":         "*transport.containerdStore",
		"docker-archive:a.tar:a:1": "*transport.dockerArchiveStore",
	} {
		st, err := Open(mustParse(t, s), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := typeName(st); got != want {
			t.Errorf("%s opened as %s, want %s", s, got, want)
		}
		if err := st.Close(); err != nil {
			t.Errorf("Close of an unused store: %v", err)
		}
	}
	st, _ := Open(mustParse(t, "containerd:app:1"), Options{})
	if o := st.(*containerdStore).opts; o.Address != DefaultContainerdAddress || o.Namespace != "k8s.io" || o.Snapshotter != "overlayfs" {
		t.Errorf("containerd defaults = %+v", o)
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }
