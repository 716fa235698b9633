package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/testing/faultproxy"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// wrap -f over images of several repositories of one registry uploads the
// agent layer once, into one repository, and gives it to the others by a
// cross-repository mount, never by another upload (the wraps run at once).
// Counted at the registry, through a proxy that logs every request.
func TestWrapFilesUploadsTheAgentOnce(t *testing.T) {
	reg := testenv.Registry(t)
	p := faultproxy.Start(t, reg)
	proxy := p.Addr()
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
	var log strings.Builder
	for _, e := range p.Requests() {
		fmt.Fprintf(&log, "%s %s %d\n", e.Method, e.URI, e.Status)
		u, err := url.Parse(e.URI)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		switch {
		case e.Method == http.MethodPut && q.Get("digest") == agent.String():
			uploads++
		case e.Method == http.MethodPost && q.Get("mount") == agent.String() && e.Status == http.StatusCreated:
			mounts++
		}
	}
	if uploads != 1 || mounts != len(repos)-1 {
		t.Errorf("agent layer %s: %d uploads and %d mounts, want 1 and %d; requests:\n%s", agent, uploads, mounts, len(repos)-1, log.String())
	}
}
