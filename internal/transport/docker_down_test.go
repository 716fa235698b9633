package transport

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// gatedImage is an image whose layers' compressed streams pass the first
// `after` bytes, then call hit (once, for the whole image) and block until
// release is closed: a load that is under way when something happens.
type gatedImage struct {
	v1.Image
	after   int64
	hit     func()
	once    *sync.Once
	release <-chan struct{}
}

func (g *gatedImage) Layers() ([]v1.Layer, error) {
	ls, err := g.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for i, l := range ls {
		out[i] = gatedLayer{l, g}
	}
	return out, nil
}

// LayerByDigest gates the layers a writer looks up by digest (the
// containerd store does) the same way.
func (g *gatedImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := g.Image.LayerByDigest(h)
	if err != nil {
		return nil, err
	}
	return gatedLayer{l, g}, nil
}

type gatedLayer struct {
	v1.Layer
	g *gatedImage
}

func (l gatedLayer) Compressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	return &gatedReader{rc: rc, left: l.g.after, g: l.g}, nil
}

type gatedReader struct {
	rc   io.ReadCloser
	left int64
	g    *gatedImage
}

func (r *gatedReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		r.g.once.Do(r.g.hit)
		<-r.g.release
		return r.rc.Read(p)
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.rc.Read(p)
	r.left -= int64(n)
	return n, err
}

func (r *gatedReader) Close() error { return r.rc.Close() }

// A Docker daemon that goes away in the middle of a `docker load`: Put
// fails with an error that names the Docker daemon (not a hang, not a
// success), and the source the image was read from is untouched. A tag
// only moves when dockerd has the whole archive (docker's own atomicity),
// so an error here means the daemon never tagged a partial image.
func TestDockerPutDaemonStopsMidLoad(t *testing.T) {
	testenv.RequireIntegration(t)
	reg := testenv.RealRegistry(t)
	// A daemon of its own: the shared one must survive this test.
	host, _, stop, err := testenv.StartDockerd(reg)
	if err != nil {
		t.Fatalf("%v (run `go test -short` to skip integration tests)", err)
	}
	defer stop()
	ctx := context.Background()

	// The source: a multi-MB image in an OCI layout.
	img, err := testenv.RandomImage(testenv.Spec{Layers: 2, LayerSize: 4 << 20, OCI: true})
	if err != nil {
		t.Fatal(err)
	}
	srcRef := "oci:" + filepath.Join(t.TempDir(), "src") + ":app"
	if err := mustOpen(t, srcRef).Put(ctx, &Artifact{Image: img}); err != nil {
		t.Fatal(err)
	}
	src, err := mustOpen(t, srcRef).Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srcDigest := artifactDigest(t, src)

	// dockerd stops while the archive is still being streamed.
	dst := openDocker(t, host, "docker-daemon:jbuild-test/down:1")
	err = putWhileStopping(t, dst, src.Image, stop)
	if err == nil {
		t.Fatal("Put succeeded although the Docker daemon stopped mid-load")
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "Docker daemon") {
		t.Errorf("error does not name the Docker daemon: %v", err)
	}
	if !strings.Contains(err.Error(), "jbuild-test/down:1") {
		t.Errorf("error does not name the target: %v", err)
	}

	// The source is unchanged and still whole.
	again, err := mustOpen(t, srcRef).Get(ctx)
	if err != nil {
		t.Fatalf("source after the failed load: %v", err)
	}
	if d := artifactDigest(t, again); d != srcDigest {
		t.Errorf("source digest %s after the failed load, was %s", d, srcDigest)
	}
	if err := validate.Image(again.Image); err != nil {
		t.Errorf("source after the failed load: %v", err)
	}

	// The daemon is gone: the target cannot be read back (not served from
	// some cache of the client).
	if _, err := openDocker(t, host, "docker-daemon:jbuild-test/down:1").Get(ctx); err == nil {
		t.Error("target readable from a stopped daemon")
	}
}

// containerd going away in the middle of a write: Put fails with an error
// naming the target, and the source is untouched. The name is created
// last, after every blob and the unpack, so a failed write never leaves a
// name pointing at missing content.
func TestContainerdPutDaemonStopsMidWrite(t *testing.T) {
	testenv.RequireIntegration(t)
	reg := testenv.RealRegistry(t)
	// dockerd's own containerd, of a daemon started for this test only.
	_, caddr, stop, err := testenv.StartDockerd(reg)
	if err != nil {
		t.Fatalf("%v (run `go test -short` to skip integration tests)", err)
	}
	defer stop()
	img, err := testenv.RandomImage(testenv.Spec{Layers: 2, LayerSize: 4 << 20, OCI: true})
	if err != nil {
		t.Fatal(err)
	}
	srcDigest, _ := img.Digest()
	r, err := Parse("containerd:jbuild-test/down:1")
	if err != nil {
		t.Fatal(err)
	}
	dst, err := Open(r, Options{Containerd: ContainerdOptions{Address: caddr, Namespace: "k8s.io"}})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	err = putWhileStopping(t, dst, img, stop)
	if err == nil {
		t.Fatal("Put succeeded although containerd stopped mid-write")
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "jbuild-test/down:1") {
		t.Errorf("error does not name the target: %v", err)
	}
	if d, _ := img.Digest(); d != srcDigest {
		t.Errorf("source changed: %s, was %s", d, srcDigest)
	}
}

// putWhileStopping puts img to dst, lets the first MiB of its layers
// through, then calls stop (the daemon goes away mid-write) and lets the
// writer go on. It fails the test if Put hangs, or returns before the
// daemon was stopped, and returns Put's error.
func putWhileStopping(t *testing.T, dst Store, img v1.Image, stop func()) error {
	t.Helper()
	release := make(chan struct{})
	stopped := make(chan struct{})
	gated := &gatedImage{Image: img, after: 1 << 20, once: new(sync.Once), release: release,
		hit: func() {
			go func() {
				defer close(release)
				defer close(stopped)
				// Give the daemon a moment to have read what was sent.
				time.Sleep(200 * time.Millisecond)
				stop()
			}()
		}}
	errc := make(chan error, 1)
	go func() { errc <- dst.Put(context.Background(), &Artifact{Image: gated}) }()
	var err error
	select {
	case err = <-errc:
	case <-time.After(2 * time.Minute):
		t.Fatal("Put did not return within 2 minutes of the daemon stopping")
	}
	select {
	case <-stopped:
	default:
		t.Fatalf("Put returned before the write reached the gate (the daemon never stopped): %v", err)
	}
	return err
}
