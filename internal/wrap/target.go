package wrap

import (
	"context"
	"errors"
	"fmt"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// CheckTarget applies wrap's rules for the target without writing, for
// engines that write through someone else (a BuildKit daemon pushing the
// result of `wrap --builder`): the source is never the target, and an
// existing target must be jbuild's output of this source unless force.
func CheckTarget(ctx context.Context, src, dst transport.Store, force bool) error {
	if transport.SameLocation(src.Ref(), dst.Ref()) {
		return fmt.Errorf("target %s is the source: jbuild never overwrites the image it wraps; pick another tag with -t", dst.Ref())
	}
	s, err := src.Get(ctx)
	if err != nil {
		return err
	}
	existing, err := dst.Get(ctx)
	switch {
	case errors.Is(err, transport.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("checking target %s: %w", dst.Ref(), err)
	}
	if force || outputOfAny(existing, s) {
		return nil
	}
	return fmt.Errorf("target %s already exists and is not jbuild's output of %s: pass --force to replace it, or pick another tag with -t", dst.Ref(), src.Ref())
}

// outputOfAny: existing was made from src itself or, for an index, from
// one of its platform images.
func outputOfAny(existing, src *transport.Artifact) bool {
	if d, err := src.Digest(); err == nil && isOutputOf(existing, d) {
		return true
	}
	if src.Index == nil || existing.Index == nil {
		if src.Index != nil && existing.Image != nil {
			im, err := src.Index.IndexManifest()
			if err != nil {
				return false
			}
			for _, m := range im.Manifests {
				if isOutputOf(existing, m.Digest) {
					return true
				}
			}
		}
		return false
	}
	// Both indexes: the first wrapped platform tells.
	im, err := existing.Index.IndexManifest()
	if err != nil || len(im.Manifests) == 0 {
		return false
	}
	img, err := existing.Index.Image(im.Manifests[0].Digest)
	if err != nil {
		return false
	}
	sim, err := src.Index.IndexManifest()
	if err != nil {
		return false
	}
	for _, m := range sim.Manifests {
		if isOutputOf(&transport.Artifact{Image: img}, m.Digest) {
			return true
		}
	}
	return false
}

// targetRead is the target as it stands, read in the background from the
// start of a wrap, so checking whether it may be replaced (and whether it
// is already up to date) costs nothing at the end.
type targetRead struct {
	done     chan struct{}
	existing *transport.Artifact // nil: there is no target yet
	err      error
}

func readTarget(ctx context.Context, dst transport.Store) *targetRead {
	t := &targetRead{done: make(chan struct{})}
	go func() {
		defer close(t.done)
		a, err := dst.Get(ctx)
		switch {
		case errors.Is(err, transport.ErrNotFound):
			return
		case err != nil:
			t.err = fmt.Errorf("checking target %s: %w", dst.Ref(), err)
			return
		}
		// Read now what the checks look at: the digest, and the labels or
		// annotations naming its base.
		a.Digest()
		wrappedBase(a)
		t.existing = a
	}()
	return t
}

func (t *targetRead) wait(ctx context.Context) (*transport.Artifact, error) {
	select {
	case <-t.done:
		return t.existing, t.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// mayReplace applies wrap's rule for an existing target: it must be
// jbuild's output of this base, or force.
func (t *targetRead) mayReplace(ctx context.Context, s *source, dst transport.Store, force bool) error {
	existing, err := t.wait(ctx)
	if err != nil || existing == nil || force || isOutputOf(existing, s.baseDigest) {
		return err
	}
	return fmt.Errorf("target %s already exists and is not jbuild's output of %s: pass --force to replace it, or pick another tag with -t", dst.Ref(), s.baseName)
}

// sameProfile refuses, unless force, to write over a target that holds an
// image monitored with another profile (an OpenTelemetry wrap onto the tag
// a JENNIFER wrap made, or an agent swap in place): what monitors that
// tag's containers would change without anyone asking for it.
func (t *targetRead) sameProfile(ctx context.Context, dst transport.Store, profile string, force bool) error {
	existing, err := t.wait(ctx)
	if err != nil || existing == nil || force {
		return err
	}
	l, err := existing.FirstLabels()
	if err != nil {
		return err
	}
	if prev := l[buildplan.LabelProfile]; l[buildplan.LabelVersion] != "" && prev != "" && prev != profile {
		return fmt.Errorf("target %s holds an image monitored with profile %s (%s); this wrap uses %s: pass --force to replace it, or pick another tag with -t", dst.Ref(), prev, l[buildplan.LabelAgent], profile)
	}
	return nil
}
