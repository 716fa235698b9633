package wrapfiles

import (
	"context"
	"fmt"
	"io"

	"github.com/jbuild-dev/jbuild/internal/manifest"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// Wrapper does the work on one image. Its methods are called from several
// goroutines at once, for different images.
type Wrapper interface {
	// Open opens the store ref names. Stores stay open until the caller's
	// command ends; closing them is the Wrapper's business.
	Open(ref string) (transport.Store, error)
	// Plan plans the wrap of src and writes nothing (--dry-run).
	Plan(ctx context.Context, src transport.Store, out Output) error
	// Wrap writes the monitored variant of src to target (REPO:TAG) and
	// returns the digest written.
	Wrap(ctx context.Context, src transport.Store, target string, out Output) (digest string, err error)
}

// AgentPreparer is a Wrapper that can make the agent layer ahead of the
// wraps: PrepareAgent builds it and puts it in a registry repository, best
// effort (no tag is written), and returns once it is there. Manifests.Wrap
// calls it while it reads the images, so that the agent's compression
// and upload overlap those reads, and every wrap then finds the layer
// made (the layer cache) and in the registry (a mount).
type AgentPreparer interface {
	PrepareAgent(ctx context.Context, repository string)
}

// Output is where one image's messages go. Each image's are kept apart
// and printed in input order once every image before it is done.
type Output struct {
	Stdout, Stderr io.Writer
	// Notef prints a note for the user on Stderr ("note: ..."), or nothing
	// with Options.Quiet.
	Notef func(format string, a ...any)
}

// Options configure Manifests.Wrap.
type Options struct {
	// TargetSuffix is added to an image's tag to name its monitored
	// variant ("-jennifer").
	TargetSuffix string
	// DryRun plans each image (Wrapper.Plan) instead of wrapping it; the
	// manifests then name REPO:TAG-jennifer@sha256:… .
	DryRun bool
	// Quiet drops the notes.
	Quiet bool
	// Stdout and Stderr receive what the images print, in input order.
	Stdout, Stderr io.Writer

	limit int // images at once; 0 is concurrency() (tests set it)
}

// Wrap reads every image, decides its target and wraps each distinct
// target once (see the package comment); the manifests are not touched.
// An error names the image and says that no manifest was changed.
func (m *Manifests) Wrap(ctx context.Context, w Wrapper, opts Options) error {
	limit := opts.limit
	if limit <= 0 {
		limit = concurrency()
	}
	prepared := m.prepareAgent(ctx, w, opts)
	err := each(ctx, len(m.images), limit, opts, func(ctx context.Context, i int, out Output) error {
		im := m.images[i]
		if err := im.resolve(ctx, w, opts.TargetSuffix, out.Notef); err != nil {
			return fmt.Errorf("%s (%s): %w; no manifest was changed", im.value, im.where, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := sameTargets(m.images); err != nil {
		return err
	}
	<-prepared // the wraps below find the agent layer made, and in the registry
	var todo []*image
	for _, im := range m.images {
		if im.src != nil && im.same == nil {
			todo = append(todo, im)
		}
	}
	err = each(ctx, len(todo), limit, opts, func(ctx context.Context, i int, out Output) error {
		im := todo[i]
		if err := im.wrap(ctx, w, opts.DryRun, out); err != nil {
			return fmt.Errorf("%s (%s): %w; no manifest was changed", im.value, im.where, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, im := range m.images {
		if im.same != nil {
			im.newVal = im.same.newVal
		}
	}
	return nil
}

// prepareAgent starts w's PrepareAgent (when w has one) for the first
// registry image's repository, where its wrap will write, unless there is one image only (its own wrap
// starts the agent layer as early) or nothing is written; the channel is
// closed when it has ended.
func (m *Manifests) prepareAgent(ctx context.Context, w Wrapper, opts Options) <-chan struct{} {
	done := make(chan struct{})
	p, ok := w.(AgentPreparer)
	if !ok || opts.DryRun || len(m.images) < 2 {
		close(done)
		return done
	}
	repo := ""
	for _, im := range m.images {
		if r, err := transport.Parse(im.value); err == nil && r.Kind == transport.KindRegistry {
			repo = im.ref.Repository
			break
		}
	}
	if repo == "" {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		p.PrepareAgent(ctx, repo)
	}()
	return done
}

// wrap wraps one image (or plans it with dryRun) and sets im.newVal.
// Images that cannot be monitored are left alone with a note.
func (im *image) wrap(ctx context.Context, w Wrapper, dryRun bool, out Output) error {
	if dryRun {
		if err := w.Plan(ctx, im.src, out); err != nil {
			if refusal(err) {
				out.Notef("%s (%s) left alone: %v", im.value, im.where, err)
				return nil
			}
			return err
		}
		im.newVal = im.target() + "@sha256:…"
		return nil
	}
	digest, err := w.Wrap(ctx, im.src, im.target(), out)
	if err != nil {
		if refusal(err) {
			out.Notef("%s (%s) left alone: %v", im.value, im.where, err)
			return nil
		}
		return err
	}
	im.newVal = manifest.Ref{Repository: im.ref.Repository, Tag: im.tag, Digest: digest}.String()
	return nil
}
