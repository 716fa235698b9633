package frontend

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/client"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session/secrets/secretsprovider"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	"github.com/tonistiigi/fsutil"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/testing/e2e"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func sampleAgentDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("../examples/agents/jennifer-java-sample/agent.java")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// pushAgentImage publishes the sample agent as `jbuild agent push` does.
func pushAgentImage(t testing.TB, ref string) {
	t.Helper()
	e2e.PushJavaAgentImage(t, sampleAgentDir(t), ref)
}

func openStore(t testing.TB, ref string) transport.Store {
	t.Helper()
	r, err := transport.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	st, err := transport.Open(r, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// build describes one build of a Dockerfile.
type build struct {
	dockerfile string
	files      map[string]string // build context
	args       map[string]string // build args
	attrs      map[string]string // other frontend attributes (target, platform)
	agentDir   string            // local jennifer-agent context
	push       string            // image to push the result to
	secrets    map[string][]byte // RUN --mount=type=secret,id=...
	// frontend "" runs this package's Build in-process (as BuildKit's own
	// tests run frontends); "dockerfile.v0" runs BuildKit's built-in one.
	frontend string
	// noMergeOp hides MergeOp from the in-process frontend, as Docker
	// Engine's own builder on graphdriver storage does.
	noMergeOp bool
}

type buildResult struct {
	digest   string
	statuses []*client.SolveStatus
}

func (b build) run(t testing.TB) (*buildResult, error) {
	t.Helper()
	addr := testenv.Buildkitd(t)
	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(b.dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, content := range b.files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctxFS, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	opt := client.SolveOpt{
		LocalMounts:   map[string]fsutil.FS{"context": ctxFS, "dockerfile": ctxFS},
		FrontendAttrs: map[string]string{"filename": "Dockerfile"},
	}
	for k, v := range b.args {
		opt.FrontendAttrs["build-arg:"+k] = v
	}
	for k, v := range b.attrs {
		opt.FrontendAttrs[k] = v
	}
	if b.agentDir != "" {
		afs, err := fsutil.NewFS(b.agentDir)
		if err != nil {
			t.Fatal(err)
		}
		opt.LocalMounts[AgentContext] = afs
		opt.FrontendAttrs["context:"+AgentContext] = "local:" + AgentContext
	}
	if len(b.secrets) > 0 {
		opt.Session = append(opt.Session, secretsprovider.FromMap(b.secrets))
	}
	if b.push != "" {
		opt.Exports = []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{"name": b.push, "push": "true", "registry.insecure": "true"}}}
	}
	ch := make(chan *client.SolveStatus)
	res := &buildResult{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for s := range ch {
			res.statuses = append(res.statuses, s)
		}
	}()
	var resp *client.SolveResponse
	if b.frontend == "" {
		noMergeOp := b.noMergeOp
		resp, err = c.Build(ctx, opt, "jbuild-test", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
			if noMergeOp {
				gw = withoutCap{Client: gw, cap: pb.CapMergeOp}
			}
			return Build(ctx, gw)
		}, ch)
	} else {
		opt.Frontend = b.frontend
		resp, err = c.Solve(ctx, nil, opt, ch)
	}
	<-done
	if err != nil {
		return nil, err
	}
	res.digest = resp.ExporterResponse["containerimage.digest"]
	return res, nil
}

// withoutCap is a gateway client whose builder lacks one LLB capability.
type withoutCap struct {
	gwclient.Client
	cap apicaps.CapID
}

func (w withoutCap) BuildOpts() gwclient.BuildOpts {
	o := w.Client.BuildOpts()
	all := pb.Caps.All()
	for i := range all {
		if all[i].ID == string(w.cap) {
			all[i].Enabled = false
		}
	}
	o.LLBCaps = pb.Caps.CapSet(all)
	return o
}

func (b build) mustRun(t testing.TB) *buildResult {
	t.Helper()
	r, err := b.run(t)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return r
}

func image(t testing.TB, ref string) v1.Image {
	t.Helper()
	return testenv.Image(t, ref)
}

func envOf(cf *v1.ConfigFile, name string) string {
	for _, e := range cf.Config.Env {
		if k, v, ok := strings.Cut(e, "="); ok && k == name {
			return v
		}
	}
	return ""
}

func wrapOptions(t testing.TB, agentRef string) wrap.Options {
	t.Helper()
	src, err := agent.Open(context.Background(), agentRef, agent.Options{CacheDir: t.TempDir(), ResolveImage: func(ctx context.Context, ref string) (v1.ImageIndex, v1.Image, error) {
		a, err := openStore(t, ref).Get(ctx)
		if err != nil {
			return nil, nil, err
		}
		return a.Index, a.Image, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return wrap.Options{Agent: src, Plan: buildplanOptions(), Layer: agentlayer.Options{CacheDir: t.TempDir()}}
}

func buildplanOptions() buildplan.Options {
	return buildplan.Options{ServerAddress: "10.0.0.5", ServerPort: 5000, DomainID: 1000, JbuildVersion: "test"}
}
