package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/google/go-containerregistry/pkg/logs"
	"github.com/jbuild-dev/jbuild/internal/progress"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/jbuild-dev/jbuild/internal/wrapfiles"
)

// wrapFilesFlags are the flags of `wrap -f`.
type wrapFilesFlags struct {
	files     []string
	kustomize bool
}

// runWrapFiles is `wrap -f MANIFEST...` (internal/wrapfiles): every
// distinct image in the manifests is wrapped once, and only when all of
// them succeeded (or were left alone because they cannot be monitored) are
// the files rewritten, so a failing wrap leaves every file as it was.
func runWrapFiles(ctx context.Context, g *globalFlags, pf *planFlags, wf *wrapFilesFlags, dryRun, force bool, stdout, stderr io.Writer) error {
	m, err := wrapfiles.Read(wf.files, os.Stdin)
	if err != nil {
		var ie *wrapfiles.InputError
		if errors.As(err, &ie) {
			return usageError{err}
		}
		return err
	}
	stores := storeOptions(g)
	opts, err := pf.options(ctx, g, stores)
	if err != nil {
		return err
	}
	opts.Force = force
	// With the manifests on stdin, stdout carries them back, and with
	// --kustomize the patch; the wrapped references go to stderr then.
	refsOut := stdout
	if m.ReadsStdin() || wf.kustomize {
		refsOut = stderr
	}
	// Every image's wrap and push is a step of one display; what the
	// images print comes after it on a terminal, where it would break
	// the live view.
	var disp *progress.Display
	if !dryRun {
		disp = progress.New(os.Stderr, g.quiet, "Wrapping")
	}
	defer disp.Close()
	g.retries.to(disp.After(stderr))
	w := &cliWrapper{g: g, stores: stores, opts: opts, disp: disp}
	err = m.Wrap(ctx, w, wrapfiles.Options{
		TargetSuffix: profileSuffix(ctx, opts),
		DryRun:       dryRun,
		Quiet:        g.quiet,
		Stdout:       disp.After(refsOut),
		Stderr:       disp.After(stderr),
	})
	disp.Close()
	if err != nil {
		return err
	}
	if dryRun {
		return m.PrintDryRun(stdout, wf.kustomize)
	}
	if wf.kustomize {
		return m.PrintKustomize(stdout)
	}
	return m.Rewrite(stdout, stderr, g.quiet)
}

// cliWrapper is wrapfiles.Wrapper over the command's stores and
// internal/wrap.
type cliWrapper struct {
	g      *globalFlags
	stores transport.Options
	opts   wrap.Options
	disp   *progress.Display
	mu     sync.Mutex // openStore registers each store's Close on g
}

func (w *cliWrapper) Open(ref string) (transport.Store, error) { return w.open(ref, w.stores) }

func (w *cliWrapper) open(ref string, stores transport.Options) (transport.Store, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return openStore(w.g, ref, stores)
}

// PrepareAgent implements wrapfiles.AgentPreparer: the agent layer goes
// to repository while the images are read. Best effort: a repository that
// refuses it (read-only, another registry's credentials) only means each
// wrap makes the layer itself, as without it.
func (w *cliWrapper) PrepareAgent(ctx context.Context, repository string) {
	r, err := transport.Parse(repository + ":latest")
	if err != nil || r.Kind != transport.KindRegistry {
		return
	}
	dst, err := transport.Open(r, w.stores)
	if err != nil {
		return
	}
	defer dst.Close() // waits for the registry's commit of the layer
	if err := wrap.PrepareAgentLayer(ctx, dst, w.opts); err != nil {
		logs.Debug.Printf("preparing the agent layer in %s: %v", repository, err)
	}
}

func (w *cliWrapper) Plan(ctx context.Context, src transport.Store, out wrapfiles.Output) error {
	opts := w.opts
	opts.Notef = out.Notef
	_, err := wrap.Plan(ctx, src, opts)
	return err
}

func (w *cliWrapper) Wrap(ctx context.Context, src transport.Store, target string, out wrapfiles.Output) (string, error) {
	stores := w.stores
	step := w.disp.Step(fmt.Sprintf("wrap %s -> %s", src.Ref(), target))
	var push *progress.Push
	if t, err := transport.Parse(target); err == nil && t.Kind == transport.KindRegistry {
		push = w.disp.Push(target, func() map[string]int64 { return blobSizes(ctx, src) })
		stores.Registry.Progress = push.Updates()
	}
	dst, err := w.open(target, stores)
	if err != nil {
		step.Done(err)
		push.Finish(err)
		return "", err
	}
	opts := w.opts
	opts.Notef = out.Notef
	res, err := wrap.Wrap(ctx, src, dst, opts)
	push.Finish(err)
	step.Done(err)
	if err != nil {
		return "", err
	}
	return res.TargetDigest, printWrapResult(out.Stdout, out.Stderr, res, w.g.quiet, "text")
}
