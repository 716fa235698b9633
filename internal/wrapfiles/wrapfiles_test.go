package wrapfiles

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// fakeWrapper serves images from memory and hands each wrap to wrap.
type fakeWrapper struct {
	images map[string]*transport.Artifact // by the reference opened
	wrap   func(ctx context.Context, target string, out Output) error

	mu      sync.Mutex
	wrapped []string // targets, in the order the wraps started
}

// newFake serves a random image under each reference (REPO:TAG), and
// under REPO@DIGEST too.
func newFake(t *testing.T, refs ...string) *fakeWrapper {
	t.Helper()
	w := &fakeWrapper{images: map[string]*transport.Artifact{}}
	for _, r := range refs {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		w.images[r] = &transport.Artifact{Image: img}
		w.images[repo(r)+"@"+digest(t, w.images[r])] = w.images[r]
	}
	return w
}

func repo(ref string) string { return ref[:strings.LastIndex(ref, ":")] }

func digest(t *testing.T, a *transport.Artifact) string {
	t.Helper()
	d, err := a.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// wrappedDigest is the digest the fake "writes" for target.
func wrappedDigest(target string) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(target)))
}

func (w *fakeWrapper) Open(ref string) (transport.Store, error) {
	r, err := transport.Parse(ref)
	if err != nil {
		return nil, err
	}
	return &fakeStore{ref: r, a: w.images[ref]}, nil
}

func (w *fakeWrapper) Plan(ctx context.Context, src transport.Store, out Output) error {
	return nil
}

func (w *fakeWrapper) Wrap(ctx context.Context, src transport.Store, target string, out Output) (string, error) {
	w.mu.Lock()
	w.wrapped = append(w.wrapped, target)
	w.mu.Unlock()
	if w.wrap != nil {
		if err := w.wrap(ctx, target, out); err != nil {
			return "", err
		}
	}
	fmt.Fprintln(out.Stdout, target)
	return wrappedDigest(target), nil
}

type fakeStore struct {
	ref transport.Ref
	a   *transport.Artifact
}

func (s *fakeStore) Get(context.Context) (*transport.Artifact, error) {
	if s.a == nil {
		return nil, fmt.Errorf("%s: %w", s.ref, transport.ErrNotFound)
	}
	return s.a, nil
}

func (s *fakeStore) GetDigest(context.Context, v1.Hash) (*transport.Artifact, error) {
	return nil, transport.ErrNotFound
}

func (s *fakeStore) Put(context.Context, *transport.Artifact, ...*transport.Artifact) error {
	return errors.New("fake stores are read-only")
}

func (s *fakeStore) Ref() transport.Ref { return s.ref }
func (s *fakeStore) Close() error       { return nil }

// pod writes a Pod manifest with one container per image (mode 0640) and
// returns its path.
func pod(t *testing.T, dir string, images ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# a pod\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n")
	for i, im := range images {
		fmt.Fprintf(&b, "  - {name: c%d, image: %s}\n", i, im)
	}
	p := filepath.Join(dir, "pod.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o640); err != nil {
		t.Fatal(err)
	}
	return p
}

type run struct {
	m              *Manifests
	stdout, stderr bytes.Buffer
}

// wrapFiles reads the manifests at paths and wraps them with w, limit
// images at once.
func wrapFiles(t *testing.T, w Wrapper, limit int, paths ...string) (*run, error) {
	t.Helper()
	m, err := Read(paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &run{m: m}
	err = m.Wrap(context.Background(), w, Options{TargetSuffix: "-jennifer", Stdout: &r.stdout, Stderr: &r.stderr, limit: limit})
	return r, err
}

// Two images: each wrap waits until the other has started, which only
// ends when they run at once. The second ends first; what they print is
// still in input order, and the manifest names both monitored variants.
func TestWrapsRunConcurrently(t *testing.T) {
	dir := t.TempDir()
	path := pod(t, dir, "registry.test/a:1", "registry.test/b:1")
	orig, _ := os.ReadFile(path)
	w := newFake(t, "registry.test/a:1", "registry.test/b:1")
	var started atomic.Int32
	both, bDone := make(chan struct{}), make(chan struct{})
	w.wrap = func(ctx context.Context, target string, out Output) error {
		if started.Add(1) == 2 {
			close(both)
		}
		select {
		case <-both:
		case <-time.After(10 * time.Second):
			return errors.New("the other image's wrap never started: the wraps run one at a time")
		}
		if strings.Contains(target, "/b:") {
			close(bDone)
		} else {
			<-bDone
		}
		out.Notef("wrapping %s", target)
		return nil
	}
	r, err := wrapFiles(t, w, 2, path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "registry.test/a:1-jennifer\nregistry.test/b:1-jennifer\n"; r.stdout.String() != want {
		t.Errorf("stdout %q, want %q (input order)", r.stdout.String(), want)
	}
	if want := "note: wrapping registry.test/a:1-jennifer\nnote: wrapping registry.test/b:1-jennifer\n"; r.stderr.String() != want {
		t.Errorf("stderr %q, want %q (input order)", r.stderr.String(), want)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, orig) {
		t.Fatalf("Wrap changed the manifest:\n%s", got)
	}
	var out, log bytes.Buffer
	if err := r.m.Rewrite(&out, &log, false); err != nil {
		t.Fatal(err)
	}
	want := strings.NewReplacer(
		"registry.test/a:1", "registry.test/a:1-jennifer@"+wrappedDigest("registry.test/a:1-jennifer"),
		"registry.test/b:1", "registry.test/b:1-jennifer@"+wrappedDigest("registry.test/b:1-jennifer"),
	).Replace(string(orig))
	if got, _ := os.ReadFile(path); string(got) != want {
		t.Errorf("rewritten:\n%s\nwant:\n%s", got, want)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", st.Mode().Perm())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("left in the folder: %v", ents)
	}
	if log.String() != "updated "+path+" (2 image fields)\n" {
		t.Errorf("Rewrite printed %q", log.String())
	}
}

// Seven images, three at a time: the first three wait until all three
// have started and then hold on a while, long enough for a fourth to
// start if the bound did not hold; the most at once is exactly three.
func TestWrapConcurrencyBound(t *testing.T) {
	const limit, n = 3, 7
	var refs []string
	for i := range n {
		refs = append(refs, fmt.Sprintf("registry.test/app%d:1", i))
	}
	w := newFake(t, refs...)
	var mu sync.Mutex
	inflight, most, started := 0, 0, 0
	full := make(chan struct{})
	w.wrap = func(ctx context.Context, target string, out Output) error {
		mu.Lock()
		inflight++
		started++
		most = max(most, inflight)
		first := started <= limit
		if started == limit {
			close(full)
		}
		mu.Unlock()
		defer func() {
			mu.Lock()
			inflight--
			mu.Unlock()
		}()
		if first {
			select {
			case <-full:
			case <-time.After(10 * time.Second):
				return errors.New("fewer than the bound ran at once")
			}
			time.Sleep(50 * time.Millisecond)
		}
		return nil
	}
	r, err := wrapFiles(t, w, limit, pod(t, t.TempDir(), refs...))
	if err != nil {
		t.Fatal(err)
	}
	if most != limit {
		t.Errorf("at most %d wraps at once, want %d", most, limit)
	}
	if len(w.wrapped) != n || strings.Count(r.stdout.String(), "\n") != n {
		t.Errorf("wrapped %v; printed %q", w.wrapped, r.stdout.String())
	}
	if got := concurrency(); got < 1 || got > 4 {
		t.Errorf("default concurrency %d, want 1 to 4", got)
	}
}

// The second of three images fails while the first is still wrapping:
// the third is cancelled, the first runs to its end, the error is the
// second's, only what the first two printed is printed, and the manifest
// is untouched.
func TestWrapFirstFailureCancelsTheRest(t *testing.T) {
	path := pod(t, t.TempDir(), "registry.test/a:1", "registry.test/b:1", "registry.test/c:1")
	orig, _ := os.ReadFile(path)
	w := newFake(t, "registry.test/a:1", "registry.test/b:1", "registry.test/c:1")
	bFailed := make(chan struct{})
	var aCancelled, cCause atomic.Value
	w.wrap = func(ctx context.Context, target string, out Output) error {
		out.Notef("start %s", target)
		switch {
		case strings.Contains(target, "/a:"):
			<-bFailed
			time.Sleep(20 * time.Millisecond) // time for the cancel to reach it, were it cancelled
			aCancelled.Store(ctx.Err() != nil)
			return nil
		case strings.Contains(target, "/b:"):
			defer close(bFailed)
			return errors.New("boom")
		default:
			select {
			case <-ctx.Done():
				cCause.Store(context.Cause(ctx))
				return ctx.Err()
			case <-time.After(10 * time.Second):
				return errors.New("not cancelled")
			}
		}
	}
	r, err := wrapFiles(t, w, 3, path)
	if err == nil || !strings.HasPrefix(err.Error(), "registry.test/b:1 (") || !strings.Contains(err.Error(), "boom; no manifest was changed") {
		t.Fatalf("error %v, want b's", err)
	}
	if c, _ := aCancelled.Load().(bool); c {
		t.Error("the image before the failed one was cancelled")
	}
	if c, _ := cCause.Load().(error); !errors.Is(c, errLaterStopped) {
		t.Errorf("the image after the failed one: cause %v, want it cancelled", c)
	}
	if want := "note: start registry.test/a:1-jennifer\nnote: start registry.test/b:1-jennifer\n"; r.stderr.String() != want {
		t.Errorf("stderr %q, want %q", r.stderr.String(), want)
	}
	if r.stdout.String() != "registry.test/a:1-jennifer\n" {
		t.Errorf("stdout %q", r.stdout.String())
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, orig) {
		t.Errorf("manifest changed:\n%s", got)
	}
}

// Two images fail, the later one first: the error is still the earlier
// one's (input order, not timing), and the earlier was not cancelled by
// the later failure.
func TestWrapErrorInInputOrder(t *testing.T) {
	path := pod(t, t.TempDir(), "registry.test/a:1", "registry.test/b:1")
	w := newFake(t, "registry.test/a:1", "registry.test/b:1")
	bFailed := make(chan struct{})
	w.wrap = func(ctx context.Context, target string, out Output) error {
		if strings.Contains(target, "/b:") {
			defer close(bFailed)
			return errors.New("b broke")
		}
		<-bFailed
		if ctx.Err() != nil {
			return fmt.Errorf("cancelled: %w", ctx.Err())
		}
		return errors.New("a broke")
	}
	for range 5 {
		w.wrapped = nil
		bFailed = make(chan struct{})
		_, err := wrapFiles(t, w, 2, path)
		if err == nil || !strings.HasPrefix(err.Error(), "registry.test/a:1 (") || !strings.Contains(err.Error(), "a broke") {
			t.Fatalf("error %v, want a's", err)
		}
	}
}

// An image named three ways (twice the same, once by its digest with the
// tag still naming it) is wrapped once; an image that cannot be monitored
// is left alone with a note; a missing one fails reading, before any wrap.
func TestWrapEachImageOnce(t *testing.T) {
	w := newFake(t, "registry.test/a:1", "registry.test/refused:1")
	byDigest := "registry.test/a:1@" + digest(t, w.images["registry.test/a:1"])
	w.wrap = func(ctx context.Context, target string, out Output) error {
		if strings.Contains(target, "refused") {
			return &buildplan.RefusalError{Image: target, Reason: "it runs a statically linked binary"}
		}
		return nil
	}
	dir := t.TempDir()
	path := pod(t, dir, "registry.test/a:1", byDigest, "registry.test/a:1", "registry.test/refused:1")
	r, err := wrapFiles(t, w, 4, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.wrapped) != 2 || w.wrapped[0] != "registry.test/a:1-jennifer" && w.wrapped[1] != "registry.test/a:1-jennifer" {
		t.Errorf("wrapped %v, want a:1-jennifer and refused:1-jennifer once each", w.wrapped)
	}
	if !strings.Contains(r.stderr.String(), "note: registry.test/refused:1 (") || !strings.Contains(r.stderr.String(), "left alone: ") {
		t.Errorf("no note for the refused image: %q", r.stderr.String())
	}
	if err := r.m.Rewrite(&bytes.Buffer{}, &bytes.Buffer{}, true); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	pinned := "registry.test/a:1-jennifer@" + wrappedDigest("registry.test/a:1-jennifer")
	if strings.Count(string(got), pinned) != 3 || !strings.Contains(string(got), "image: registry.test/refused:1}") {
		t.Errorf("rewritten:\n%s", got)
	}

	missing := pod(t, t.TempDir(), "registry.test/a:1", "registry.test/missing:1")
	w.wrapped = nil
	_, err = wrapFiles(t, w, 4, missing)
	if err == nil || !strings.HasPrefix(err.Error(), "registry.test/missing:1 (") || !errors.Is(err, transport.ErrNotFound) {
		t.Errorf("missing image: %v", err)
	}
	if len(w.wrapped) != 0 {
		t.Errorf("wrapped %v before every image was read", w.wrapped)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	var ie *InputError
	if _, err := Read([]string{filepath.Join(dir, "missing.yaml")}, nil); !errors.As(err, &ie) {
		t.Errorf("missing file: %v, want an InputError", err)
	}
	if _, err := Read([]string{dir}, nil); !errors.As(err, &ie) {
		t.Errorf("empty folder: %v, want an InputError", err)
	}
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("kind: Pod\n"), 0o644)
	if _, err := Read([]string{dir}, nil); err == nil || errors.As(err, &ie) || !strings.Contains(err.Error(), "no container images") {
		t.Errorf("no images: %v", err)
	}
	m, err := Read([]string{"-"}, strings.NewReader("kind: Pod\nspec:\n  containers:\n  - {name: a, image: registry.test/a:1}\n"))
	if err != nil || !m.ReadsStdin() {
		t.Errorf("stdin: %v", err)
	}
}

// preparingFake is a fakeWrapper that can prepare the agent layer.
type preparingFake struct {
	*fakeWrapper
	prepared   []string
	preparedAt int // how many wraps had started when PrepareAgent returned
}

func (p *preparingFake) PrepareAgent(ctx context.Context, repository string) {
	p.mu.Lock()
	p.prepared = append(p.prepared, repository)
	p.mu.Unlock()
	time.Sleep(20 * time.Millisecond) // a wrap that started meanwhile would show
	p.mu.Lock()
	p.preparedAt = len(p.wrapped)
	p.mu.Unlock()
}

// With several images the agent layer is prepared once, in the first
// registry image's repository, and every wrap starts after it is there;
// one image, or a dry run, prepares nothing.
func TestWrapPreparesTheAgentOnce(t *testing.T) {
	p := &preparingFake{fakeWrapper: newFake(t, "registry.test/a:1", "registry.test/b:1")}
	if _, err := wrapFiles(t, p, 4, pod(t, t.TempDir(), "oci:/no/such/layout:x", "registry.test/a:1", "registry.test/b:1")); err != nil {
		t.Fatal(err)
	}
	if len(p.prepared) != 1 || p.prepared[0] != "registry.test/a" {
		t.Errorf("prepared %v, want [registry.test/a] (the first registry image's repository)", p.prepared)
	}
	if p.preparedAt != 0 || len(p.wrapped) != 2 {
		t.Errorf("%d wraps started before the agent was prepared (wrapped %v)", p.preparedAt, p.wrapped)
	}

	one := &preparingFake{fakeWrapper: newFake(t, "registry.test/a:1")}
	if _, err := wrapFiles(t, one, 4, pod(t, t.TempDir(), "registry.test/a:1")); err != nil {
		t.Fatal(err)
	}
	dry := &preparingFake{fakeWrapper: newFake(t, "registry.test/a:1", "registry.test/b:1")}
	m, err := Read([]string{pod(t, t.TempDir(), "registry.test/a:1", "registry.test/b:1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Wrap(context.Background(), dry, Options{TargetSuffix: "-jennifer", DryRun: true, Stdout: io.Discard, Stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if len(one.prepared)+len(dry.prepared) != 0 {
		t.Errorf("prepared for one image %v, for a dry run %v; want nothing", one.prepared, dry.prepared)
	}
}
