package wrap

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// sampleAgent is the sample JENNIFER Java agent bundle shipped in examples/.
func sampleAgent(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("../../examples/agents/jennifer-java-sample/agent.java")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// copyAgent copies the sample agent and adds extra files, to make a
// "newer" agent for upgrade tests.
func copyAgent(t testing.TB, extra map[string]string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "agent.java")
	if err := os.CopyFS(dst, os.DirFS(sampleAgent(t))); err != nil {
		t.Fatal(err)
	}
	for name, content := range extra {
		p := filepath.Join(dst, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func openAgent(t testing.TB, spec string) agent.Source {
	t.Helper()
	src, err := agent.Open(context.Background(), spec, agent.Options{BundleRoot: []string{"agent.java"}, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func javaOptions(t testing.TB, agentDir string) Options {
	return Options{
		Agent: openAgent(t, agentDir),
		Plan:  buildplan.Options{ServerAddress: "127.0.0.1", ServerPort: 5000, DomainID: 1000, JbuildVersion: "test"},
		Layer: agentlayer.Options{CacheDir: t.TempDir()},
	}
}

// fileLayer builds an uncompressed-tar layer from path -> content (modes
// 0644, dirs implied), e.g. an /etc/passwd for user resolution tests.
func fileLayer(t testing.TB, files map[string]string) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		mode := int64(0o644)
		if strings.Contains(name, "/bin/") {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(name, "/"), Mode: mode, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(content))
	}
	tw.Close()
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func javaConfig(user string, env ...string) func(*v1.ConfigFile) {
	return func(cf *v1.ConfigFile) {
		cf.Config.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64"}, env...)
		cf.Config.Entrypoint = []string{"java", "-jar", "/app/app.jar"}
		cf.Config.User = user
		cf.Config.WorkingDir = "/app"
		cf.Config.ExposedPorts = map[string]struct{}{"8080/tcp": {}}
	}
}

func store(t testing.TB, ref string) transport.Store {
	t.Helper()
	return storeWith(t, ref, transport.Options{})
}

func storeWith(t testing.TB, ref string, opts transport.Options) transport.Store {
	t.Helper()
	r, err := transport.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	st, err := transport.Open(r, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func getImage(t testing.TB, ref string) v1.Image {
	t.Helper()
	a, err := store(t, ref).Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a.Image == nil {
		t.Fatalf("%s is an index, want an image", ref)
	}
	return a.Image
}

func envOf(cf *v1.ConfigFile, name string) (string, bool) {
	for _, e := range cf.Config.Env {
		if k, v, ok := strings.Cut(e, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// layerFiles reads a layer's tar headers by name.
func layerFiles(t testing.TB, l v1.Layer) map[string]*tar.Header {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(h.Name, "/")] = h
	}
}

// blobCounter counts blob GETs per digest, to prove base layers are never
// downloaded.
type blobCounter struct {
	mu   sync.Mutex
	gets map[string]int
	base http.RoundTripper
}

func newBlobCounter() *blobCounter {
	return &blobCounter{gets: map[string]int{}, base: http.DefaultTransport}
}

func (c *blobCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet {
		if i := strings.Index(r.URL.Path, "/blobs/"); i >= 0 {
			c.mu.Lock()
			c.gets[r.URL.Path[i+len("/blobs/"):]]++
			c.mu.Unlock()
		}
	}
	return c.base.RoundTrip(r)
}

func (c *blobCounter) count(h v1.Hash) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gets[h.String()]
}

// artifactImage adapts a v1.Image for Store.Put in tests.
type artifactImage struct{ img v1.Image }

func (a *artifactImage) artifact() *transport.Artifact { return &transport.Artifact{Image: a.img} }
