package frontend

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// A build whose last stage only COPYs the application is planned from its
// base, read while the build ran: the plan says which layers it did not
// read, and the base's own /opt (owner and mode) is kept as when the result
// is read. A RUN that changes /opt, or a COPY into it, makes the frontend
// read the result instead, and the plan keeps what the build made.
func TestFrontendPlansFromTheBase(t *testing.T) {
	reg := testenv.RealRegistry(t)
	base := reg + "/fe/optbase:1"
	testenv.PushImage(t, base, imageWithOwnOpt(t))
	pushAgentImage(t, reg+"/fe/agent:java")

	var mu sync.Mutex
	var plans []*buildplan.Plan
	planned = func(p *buildplan.Plan) { mu.Lock(); plans = append(plans, p); mu.Unlock() }
	t.Cleanup(func() { planned = nil })
	last := func() *buildplan.Plan {
		mu.Lock()
		defer mu.Unlock()
		if len(plans) == 0 {
			t.Fatal("no plan made")
		}
		return plans[len(plans)-1]
	}
	args := map[string]string{ArgAgent: reg + "/fe/agent:java", ArgServerAddress: "10.0.0.5"}
	for _, c := range []struct {
		name, steps string
		fromBase    bool
		uid         int
		mode        int64
	}{
		{"COPY into /app", "COPY app.jar /app/app.jar\n", true, 1000, 0o750},
		{"RUN that changes /opt", "RUN chown 2000:2000 /opt && chmod 0711 /opt\nCOPY app.jar /app/app.jar\n", false, 2000, 0o711},
		{"COPY into /opt", "COPY --chown=2000:2000 app.jar /opt/app.jar\n", false, 1000, 0o750},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := reg + "/fe/app:optbase-" + strings.NewReplacer(" ", "-", "/", "").Replace(strings.ToLower(c.name))
			b := build{
				dockerfile: "FROM " + base + "\n" + c.steps,
				files:      map[string]string{"app.jar": "not really a jar"},
				args:       args,
				push:       out,
			}
			b.mustRun(t)
			p := last()
			if got := len(p.Unread) > 0; got != c.fromBase {
				t.Errorf("planned from the base: %v (unread %q), want %v", got, p.Unread, c.fromBase)
			}
			if c.fromBase && !strings.Contains(strings.Join(p.Unread, "\n"), "COPY app.jar /app/app.jar") {
				t.Errorf("evidence %q does not name the COPY", p.Unread)
			}
			h, ok := layerHeaders(t, image(t, out), 0)["opt"]
			if !ok {
				t.Fatalf("the settings layer does not keep /opt (the base's is %d, 0%o)", 1000, 0o750)
			}
			if h.Uid != c.uid || h.Mode&0o7777 != c.mode {
				t.Errorf("/opt in the settings layer: %d, 0%o; want %d, 0%o", h.Uid, h.Mode&0o7777, c.uid, c.mode)
			}
		})
	}
}

// imageWithOwnOpt is the Java-like test image with /opt owned by 1000 and
// mode 0750, as bases with their own /opt have it, and a history entry for
// each layer, as builders write it.
func imageWithOwnOpt(t *testing.T) v1.Image {
	t.Helper()
	java, err := testenv.JavaLikeImage(v1.Platform{OS: "linux", Architecture: runtime.GOARCH})
	if err != nil {
		t.Fatal(err)
	}
	layers, err := java.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var adds []mutate.Addendum
	for i, l := range layers {
		adds = append(adds, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: fmt.Sprintf("ADD rootfs-%d.tar / # test", i)}})
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "opt/", Typeflag: tar.TypeDir, Mode: 0o750, Uid: 1000, Gid: 1000}); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	data := buf.Bytes()
	opt, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	adds = append(adds, mutate.Addendum{Layer: opt, History: v1.History{CreatedBy: "RUN mkdir /opt && chown 1000:1000 /opt && chmod 0750 /opt # buildkit"}})
	img, err := mutate.Append(empty.Image, adds...)
	if err != nil {
		t.Fatal(err)
	}
	jcf, err := java.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Config = jcf.OS, jcf.Architecture, jcf.Config
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
