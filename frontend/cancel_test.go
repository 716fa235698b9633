package frontend

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	gtransport "github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/moby/buildkit/client"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// firstWrite calls f once, on the first Write: the first progress line
// BuildKit sends, so the build is under way on the daemon.
type firstWrite struct {
	once sync.Once
	f    func()
}

func (w *firstWrite) Write(p []byte) (int, error) {
	w.once.Do(w.f)
	return len(p), nil
}

// assertAbsent fails t unless the registry answers 404 for ref: nothing,
// not even a manifest whose blobs are missing, was published under it.
func assertAbsent(t *testing.T, ref string) {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	_, err = remote.Get(r)
	var te *gtransport.Error
	if !errors.As(err, &te) || te.StatusCode != 404 {
		t.Errorf("%s after the interrupted build: want 404 from the registry, got %v", ref, err)
	}
}

// remoteWrapOf is the wrap of TestWrapOnBuilderMatchesWrap: reg's java-like
// image and agent, pushed to target.
func remoteWrapOf(t *testing.T, reg, repo, target string) RemoteWrap {
	t.Helper()
	testenv.PushJavaLike(t, reg+"/"+repo+"/app:1")
	pushAgentImage(t, reg+"/"+repo+"/agent:java")
	return RemoteWrap{
		Source:    reg + "/" + repo + "/app:1",
		Target:    target,
		Platforms: []ocispecs.Platform{{OS: "linux", Architecture: "amd64"}},
		Settings:  &Settings{AgentRef: reg + "/" + repo + "/agent:java", Plan: buildplanOptions()},
		Insecure:  true,
	}
}

// `wrap --builder` when buildkitd stops in the middle of the wrap: an
// error that says it was BuildKit and that the connection went, and no
// target in the registry (BuildKit pushes the manifest last, after its
// blobs, so an interrupted build leaves no tag).
func TestWrapOnBuilderBuildkitdStops(t *testing.T) {
	reg := testenv.RealRegistry(t)
	testenv.Buildkitd(t) // builds buildkitd if needed; the shared one is left alone
	// A daemon of its own, to stop.
	addr, stop, err := testenv.StartBuildkitd(reg)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	target := reg + "/down/app:1-wrapped"
	w := remoteWrapOf(t, reg, "down", target)
	stopped := make(chan struct{})
	w.Progress = &firstWrite{f: func() {
		go func() { stop(); close(stopped) }()
	}}
	errc := make(chan error, 1)
	go func() {
		_, err := WrapOnBuilder(ctx, c, w)
		errc <- err
	}()
	select {
	case err = <-errc:
	case <-time.After(2 * time.Minute):
		t.Fatal("WrapOnBuilder did not return within 2 minutes of buildkitd stopping")
	}
	select {
	case <-stopped:
	case <-time.After(time.Minute):
		t.Fatal("buildkitd did not stop")
	}
	if err == nil {
		t.Fatal("WrapOnBuilder succeeded although buildkitd stopped mid-build")
	}
	t.Logf("error: %v", err)
	msg := err.Error()
	if !strings.Contains(msg, "BuildKit") {
		t.Errorf("error does not name BuildKit: %v", err)
	}
	if !strings.Contains(msg, "connection") && !strings.Contains(msg, "Unavailable") && !strings.Contains(msg, "EOF") {
		t.Errorf("error does not say the connection to buildkitd went: %v", err)
	}
	assertAbsent(t, target)
}

// Cancelling the context of `wrap --builder` mid-way: context.Canceled,
// nothing pushed, and the (shared) daemon builds fine afterwards.
func TestWrapOnBuilderCancel(t *testing.T) {
	reg := testenv.RealRegistry(t)
	addr := testenv.Buildkitd(t)
	c, err := client.New(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	target := reg + "/cancel/app:1-wrapped"
	w := remoteWrapOf(t, reg, "cancel", target)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.Progress = &firstWrite{f: cancel}
	_, err = WrapOnBuilder(ctx, c, w)
	if err == nil {
		t.Fatal("WrapOnBuilder succeeded although its context was cancelled")
	}
	t.Logf("error: %v", err)
	if !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("error is not a cancellation: %v", err)
	}
	assertAbsent(t, target)

	// The daemon is not left wedged: the same wrap goes through now.
	w.Target = reg + "/cancel/app:1-after"
	w.Progress = nil
	if _, err := WrapOnBuilder(context.Background(), c, w); err != nil {
		t.Fatalf("wrap after the cancelled one: %v", err)
	}
	image(t, w.Target)
}

// The frontend itself (Build, in-process as BuildKit runs it) cancelled
// while a RUN step is running: the build stops at once rather than when
// the step ends, the error is a cancellation, nothing is pushed, and the
// daemon builds the same Dockerfile afterwards.
func TestFrontendBuildCancel(t *testing.T) {
	reg := testenv.RealRegistry(t)
	addr := testenv.Buildkitd(t)
	testenv.PushJavaLike(t, reg+"/fecancel/javabase:1")
	pushAgentImage(t, reg+"/fecancel/agent:java")
	c, err := client.New(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	dir := t.TempDir()
	df := "FROM " + reg + "/fecancel/javabase:1\nARG SLEEP=0\nRUN sleep $SLEEP && touch /slept\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	ctxFS, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	run := func(ctx context.Context, sleep, push string, onStatus func(*client.SolveStatus)) error {
		opt := client.SolveOpt{
			LocalMounts: map[string]fsutil.FS{"context": ctxFS, "dockerfile": ctxFS},
			FrontendAttrs: map[string]string{
				"filename":                      "Dockerfile",
				"build-arg:SLEEP":               sleep,
				"build-arg:" + ArgAgent:         reg + "/fecancel/agent:java",
				"build-arg:" + ArgServerAddress: "10.0.0.5",
			},
			Exports: []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{"name": push, "push": "true", "registry.insecure": "true"}}},
		}
		ch := make(chan *client.SolveStatus)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for s := range ch {
				if onStatus != nil {
					onStatus(s)
				}
			}
		}()
		_, err := c.Build(ctx, opt, "jbuild-test", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
			return Build(ctx, gw)
		}, ch)
		<-done
		return err
	}

	target := reg + "/fecancel/app:cancelled"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sleeping sync.Once
	start := time.Now()
	err = run(ctx, "60", target, func(s *client.SolveStatus) {
		for _, v := range s.Vertexes {
			if strings.Contains(v.Name, "sleep") && v.Started != nil && v.Completed == nil {
				sleeping.Do(cancel)
			}
		}
	})
	took := time.Since(start)
	if err == nil {
		t.Fatal("build succeeded although its context was cancelled")
	}
	t.Logf("error after %s: %v", took.Round(time.Millisecond), err)
	if ctx.Err() == nil {
		t.Fatalf("build failed before the RUN step started (not cancelled): %v", err)
	}
	if !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("error is not a cancellation: %v", err)
	}
	if took > 45*time.Second {
		t.Errorf("cancelled build returned after %s: the RUN step was not interrupted", took)
	}
	assertAbsent(t, target)

	ok := reg + "/fecancel/app:after"
	if err := run(context.Background(), "0", ok, nil); err != nil {
		t.Fatalf("build after the cancelled one: %v", err)
	}
	if envOf(testenv.Config(t, ok), "JAVA_TOOL_OPTIONS") == "" {
		t.Error("build after the cancelled one has no JAVA_TOOL_OPTIONS: the agent was not injected")
	}
}
