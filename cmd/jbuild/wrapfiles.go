package main

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

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
	w := &cliWrapper{g: g, stores: stores, opts: opts, uploads: &uploads{quiet: g.quiet}}
	err = m.Wrap(ctx, w, wrapfiles.Options{
		TargetSuffix: profileSuffix(ctx, opts),
		DryRun:       dryRun,
		Quiet:        g.quiet,
		Stdout:       refsOut,
		Stderr:       w.uploads.above(stderr),
	})
	w.uploads.finish()
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
	g       *globalFlags
	stores  transport.Options
	opts    wrap.Options
	uploads *uploads
	mu      sync.Mutex // openStore registers each store's Close on g
}

func (w *cliWrapper) Open(ref string) (transport.Store, error) { return w.open(ref, w.stores) }

func (w *cliWrapper) open(ref string, stores transport.Options) (transport.Store, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return openStore(w.g, ref, stores)
}

func (w *cliWrapper) Plan(ctx context.Context, src transport.Store, out wrapfiles.Output) error {
	opts := w.opts
	opts.Notef = out.Notef
	_, err := wrap.Plan(ctx, src, opts)
	return err
}

func (w *cliWrapper) Wrap(ctx context.Context, src transport.Store, target string, out wrapfiles.Output) (string, error) {
	stores := w.stores
	stores.Registry.Progress = w.uploads.updates()
	dst, err := w.open(target, stores)
	if err != nil {
		return "", err
	}
	opts := w.opts
	opts.Notef = out.Notef
	res, err := wrap.Wrap(ctx, src, dst, opts)
	if err != nil {
		return "", err
	}
	return res.TargetDigest, printWrapResult(out.Stdout, out.Stderr, res, w.g.quiet, "text")
}

// uploads shows the uploads of the images wrapped at once as one running
// byte count on a terminal (progress.go's display): one terminal line has
// room for one count. Each image's upload gets its own channel, as the
// registry store closes it when its write ends.
type uploads struct {
	quiet bool

	mu       sync.Mutex
	p        *countLine // made on the first upload
	finished bool
	drawn    bool // a count is on the terminal's last line
	complete []int64
	total    []int64
}

// updates is the progress channel for one image's target store, nil when
// nothing is shown.
func (u *uploads) updates() chan<- v1.Update {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.p == nil {
		u.p = newProgress(os.Stderr, u.quiet)
	}
	if u.p.updates() == nil || u.finished {
		return nil
	}
	i := len(u.complete)
	u.complete, u.total = append(u.complete, 0), append(u.total, 0)
	ch := make(chan v1.Update, 16)
	go func() {
		for up := range ch {
			if up.Error != nil {
				continue
			}
			u.mu.Lock()
			if !u.finished {
				u.complete[i], u.total[i] = up.Complete, up.Total
				u.p.ch <- v1.Update{Complete: sum(u.complete), Total: sum(u.total)}
				u.drawn = true
			}
			u.mu.Unlock()
		}
	}()
	return ch
}

// above is w (the terminal the count is drawn on) with the count's line
// ended before each write, so what the images print starts on its own
// line.
func (u *uploads) above(w io.Writer) io.Writer { return aboveCount{u, w} }

type aboveCount struct {
	u *uploads
	w io.Writer
}

func (a aboveCount) Write(p []byte) (int, error) {
	a.u.mu.Lock()
	defer a.u.mu.Unlock()
	if a.u.drawn && len(p) > 0 {
		a.u.drawn = false
		if _, err := io.WriteString(a.w, "\n"); err != nil {
			return 0, err
		}
	}
	return a.w.Write(p)
}

// finish ends the display once every wrap has returned.
func (u *uploads) finish() {
	u.mu.Lock()
	u.finished = true
	p := u.p
	if p != nil && p.ch != nil {
		close(p.ch)
	}
	u.mu.Unlock()
	if p != nil {
		p.done()
	}
}

func sum(s []int64) int64 {
	var n int64
	for _, v := range s {
		n += v
	}
	return n
}
