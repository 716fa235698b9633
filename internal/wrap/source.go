package wrap

import (
	"context"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// source is a loaded input: what the user named and the base the agent is
// added to. They differ for a jbuild output (an agent upgrade): then the base
// is the original image, found by the digest jbuild recorded, so the old
// agent layer is replaced rather than a second one stacked on top.
type source struct {
	ref      transport.Ref
	artifact *transport.Artifact
	digest   v1.Hash

	base       *transport.Artifact
	baseName   string
	baseDigest v1.Hash
	upgrade    bool
	// previous are the settings recorded in the output being upgraded.
	previous *buildplan.Recorded
}

func loadSource(ctx context.Context, st transport.Store, opts *Options) (*source, error) {
	a, err := st.Get(ctx)
	if err != nil {
		if errors.Is(err, transport.ErrNotFound) {
			return nil, fmt.Errorf("source %s: %w (check the name and tag; `jbuild` never creates a source)", st.Ref(), err)
		}
		return nil, err
	}
	d, err := a.Digest()
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", st.Ref(), err)
	}
	s := &source{ref: st.Ref(), artifact: a, digest: d, base: a, baseName: st.Ref().Name(), baseDigest: d}
	if inImage, err := inImageClaim(a); err != nil {
		return nil, fmt.Errorf("reading %s: %w", st.Ref(), err)
	} else if inImage {
		return s.fromInImageBase(opts)
	}
	name, digest, ok, err := wrappedBase(a)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", st.Ref(), err)
	}
	if !ok {
		return s, nil
	}
	// Labels claim it is jbuild's output; only the layers and the sealed
	// config can prove it. An image built FROM a monitored image (or with
	// copied labels) is wrapped as the new image it is: its own layers stay,
	// and its env already names the agent, so no flag is added twice.
	if err := checkOutput(a, nil); err != nil {
		opts.notef("%s carries jbuild's labels but is not jbuild's output (%v): wrapping it as a new image (to upgrade the agent of the image it was built from, wrap that image)", st.Ref(), err)
		return s, nil
	}
	h, err := v1.NewHash(digest)
	if err != nil {
		return nil, fmt.Errorf("%s: label %s=%q is not a digest: %w", st.Ref(), buildplan.LabelBaseDigest, digest, err)
	}
	base, err := FindBase(ctx, st, name, h, opts.Stores)
	if err != nil {
		return nil, err
	}
	if err := checkOutput(a, base); err != nil {
		opts.notef("%s carries jbuild's labels but is not jbuild's output of %s@%s (%v): wrapping it as a new image", st.Ref(), name, h, err)
		return s, nil
	}
	prev, err := recordedSettings(a)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", st.Ref(), err)
	}
	s.base, s.baseName, s.baseDigest, s.upgrade, s.previous = base, name, h, true, prev
	return s, nil
}

// fromInImageBase makes s, an output whose base was never stored (a
// Dockerfile build through the frontend), an upgrade of the base rebuilt
// from it; one that fails the output rule is a new source.
func (s *source) fromInImageBase(opts *Options) (*source, error) {
	base, h, err := rebuiltBase(s.artifact)
	if err != nil {
		opts.notef("%s carries jbuild's labels but is not jbuild's output (%v): wrapping it as a new image (to upgrade the agent of the image it was built from, wrap that image)", s.ref, err)
		return s, nil
	}
	prev, err := recordedSettings(s.artifact)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.ref, err)
	}
	s.base, s.baseDigest, s.upgrade, s.previous = base, h, true, prev
	return s, nil
}

// wrappedBase reports whether a is a jbuild output and, if so, the base it
// was made from. An image carries it in its config labels; an index in its
// annotations.
func wrappedBase(a *transport.Artifact) (name, digest string, ok bool, err error) {
	var m map[string]string
	if a.Index != nil {
		im, err := a.Index.IndexManifest()
		if err != nil {
			return "", "", false, err
		}
		m = im.Annotations
	} else {
		cf, err := a.Image.ConfigFile()
		if err != nil {
			return "", "", false, err
		}
		m = cf.Config.Labels
	}
	if m[buildplan.LabelVersion] == "" {
		return "", "", false, nil
	}
	if m[buildplan.LabelBaseDigest] == "" {
		// The frontend's outputs carry the agent but no base digest: the
		// image without the agent was never pushed anywhere to go back to.
		return "", "", false, errFrontendOutput
	}
	return m[buildplan.LabelBaseName], m[buildplan.LabelBaseDigest], true, nil
}

var errFrontendOutput = errors.New("it already carries the agent, added by a jbuild BuildKit frontend older than " + buildplan.LabelRestore + " (it records nothing to go back to); to change the agent, rebuild it with the current frontend")

// FindBase looks for the base by digest next to the wrapped image first (wrap
// keeps it there for exactly this), then where its name points.
func FindBase(ctx context.Context, st transport.Store, name string, h v1.Hash, stores transport.Options) (*transport.Artifact, error) {
	a, err := st.GetDigest(ctx, h)
	if err == nil {
		return a, nil
	}
	if !errors.Is(err, transport.ErrNotFound) {
		return nil, err
	}
	where := "is not in " + st.Ref().String()
	if name != "" {
		if ref, perr := transport.Parse(name); perr == nil {
			bs, oerr := transport.Open(ref, stores)
			if oerr == nil {
				defer bs.Close()
				a, err = bs.GetDigest(ctx, h)
				if err == nil {
					return a, nil
				}
				if !errors.Is(err, transport.ErrNotFound) {
					return nil, err
				}
				where = fmt.Sprintf("is in neither %s nor %s", st.Ref(), name)
			}
		}
	}
	return nil, fmt.Errorf("%s is jbuild's output of %s@%s, but that base image %s: %w (push the original image back, or wrap the original instead)", st.Ref(), name, h, where, transport.ErrNotFound)
}

// isOutputOf reports whether a is a jbuild output made from baseDigest (as
// far as a alone tells: its sealed config and top layers).
func isOutputOf(a *transport.Artifact, baseDigest v1.Hash) bool {
	if inImage, err := inImageClaim(a); err == nil && inImage {
		_, h, err := rebuiltBase(a)
		return err == nil && h == baseDigest
	}
	_, d, ok, err := wrappedBase(a)
	return err == nil && ok && d == baseDigest.String() && checkOutput(a, nil) == nil
}

// IsOutput reports whether the image st names is a jbuild output (so that
// wrapping it again upgrades its agent in place). An image that only
// carries jbuild's labels (built FROM a monitored image) is not.
func IsOutput(ctx context.Context, st transport.Store) (bool, error) {
	a, err := st.Get(ctx)
	if err != nil {
		return false, err
	}
	if inImage, err := inImageClaim(a); err != nil || inImage {
		return inImage && checkOutput(a, nil) == nil, err
	}
	_, _, ok, err := wrappedBase(a)
	if err != nil || !ok {
		return false, err
	}
	return checkOutput(a, nil) == nil, nil
}
