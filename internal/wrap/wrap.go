package wrap

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// Plan computes what Wrap would do and writes nothing. It reads image
// configs, and image layers only when detection needs them.
func Plan(ctx context.Context, src transport.Store, opts Options) (*Result, error) {
	return inDaemon(ctx, src, nil, &opts, func(src, _ transport.Store) (*Result, error) { return plan(ctx, src, opts) })
}

func plan(ctx context.Context, src transport.Store, opts Options) (*Result, error) {
	s, err := loadSource(ctx, src, &opts)
	if err != nil {
		return nil, err
	}
	bs, err := newBundles(ctx, opts.Agent)
	if err != nil {
		return nil, err
	}
	ps, dropped, err := planAll(ctx, s, &opts, bs)
	if err != nil {
		return nil, err
	}
	res := s.result(dropped)
	for _, p := range ps {
		res.Platforms = append(res.Platforms, PlatformResult{Platform: p.platform, Plan: p.plan})
	}
	return res, nil
}

func (s *source) result(dropped []string) *Result {
	return &Result{
		Source:       s.ref.String(),
		SourceDigest: s.digest.String(),
		Base:         s.baseName,
		BaseDigest:   s.baseDigest.String(),
		Upgrade:      s.upgrade,
		Dropped:      dropped,
	}
}

// Wrap writes the monitored variant of src to dst. The target is written
// last, so on any failure (a persistent registry fault, a cancelled
// context) it is what it was before; the error is then a *NotWrittenError
// that says what was left behind.
func Wrap(ctx context.Context, src, dst transport.Store, opts Options) (*Result, error) {
	res, err := inDaemon(ctx, src, dst, &opts, func(src, dst transport.Store) (*Result, error) { return wrapTo(ctx, src, dst, opts) })
	if err != nil {
		return nil, notWritten(ctx, dst, transport.Explain(err, src, dst))
	}
	return res, nil
}

func wrapTo(ctx context.Context, src, dst transport.Store, opts Options) (*Result, error) {
	// A registry upload starts with round trips (authenticate, open an
	// upload session): open one session now, so the first new layer's
	// bytes leave as soon as they exist (the agent layer's unless it is
	// cached, else the settings layer's; a session nobody used is cancelled
	// when the store closes).
	if p, ok := dst.(transport.BlobPreparer); ok {
		p.PrepareBlobs(ctx, 1)
		// Planning that downloads layers (a base never seen) takes longer
		// than opening a session: open the settings layer's and the
		// config's meanwhile, so that neither waits for one once the plan
		// is made.
		var once sync.Once
		opts.downloading = func() { once.Do(func() { p.PrepareBlobs(ctx, 2) }) }
	}
	bs, err := newBundles(ctx, opts.Agent)
	if err != nil {
		return nil, err
	}
	// The agent layer depends on the agent alone: start it (and its upload)
	// now, while the image is read and planned; read the target meanwhile.
	early := startEarlyAgentLayer(ctx, bs, &opts, dst)
	defer early.wait()
	target := readTarget(ctx, dst)
	defer target.wait(context.Background())
	s, err := loadSource(ctx, src, &opts)
	if err != nil {
		return nil, err
	}
	if transport.SameLocation(src.Ref(), dst.Ref()) && !s.upgrade {
		return nil, fmt.Errorf("target %s is the source: jbuild never overwrites the image it wraps; pick another tag with -t", dst.Ref())
	}
	// A target that may not be replaced fails the wrap before anything
	// else is written to it.
	if err := target.mayReplace(ctx, s, dst, opts.Force); err != nil {
		return nil, err
	}
	ps, dropped, err := planAll(ctx, s, &opts, bs)
	if err != nil {
		return nil, err
	}
	if len(ps) > 0 {
		if err := target.sameProfile(ctx, dst, ps[0].plan.Profile, opts.Force); err != nil {
			return nil, err
		}
	}
	for _, d := range dropped {
		opts.notef("left out of the index: %s", d)
	}
	if s.upgrade {
		opts.notef("%s is jbuild's output of %s@%s: replacing its agent layer", s.ref, s.baseName, s.baseDigest)
		if len(ps) > 0 && len(ps[0].plan.Carried) > 0 {
			opts.notef("carried forward from %s: %s (pass the flag to change it)", s.ref, strings.Join(ps[0].plan.Carried, ", "))
		}
	}
	res := s.result(dropped)
	res.Target = dst.Ref().String()
	out, err := assemble(ctx, s, ps, res, &opts, dst, early)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	outDigest, err := transport.DigestIn(dst, out)
	if err != nil {
		return nil, err
	}
	res.TargetDigest = outDigest.String()
	existing, err := target.wait(ctx)
	if err != nil {
		return nil, err
	}
	if existing != nil {
		if d, derr := existing.Digest(); derr == nil && d == outDigest {
			res.Unchanged = true
			return res, nil
		}
	}
	// The base is kept next to the result by digest, never tagged, so that
	// `jbuild unwrap` and agent upgrades find it even after the source tag
	// moves on.
	if err := dst.Put(ctx, out, s.base); err != nil {
		return nil, err
	}
	return res, nil
}

// assemble builds every platform and, for an index source, the new index.
func assemble(ctx context.Context, s *source, ps []*planned, res *Result, opts *Options, dst transport.Store, early *earlyLayer) (*transport.Artifact, error) {
	var adds []mutate.IndexAddendum
	for _, p := range ps {
		img, layers, err := build(ctx, p, opts, dst, early)
		if err != nil {
			return nil, err
		}
		pr := PlatformResult{Platform: p.platform, Plan: p.plan}
		if pr.Digest, err = transport.DigestIn(dst, &transport.Artifact{Image: img}); err != nil {
			return nil, err
		}
		if pr.Layer, err = layers.agent.Digest(); err != nil {
			return nil, err
		}
		if layers.settings != nil {
			d, err := layers.settings.Digest()
			if err != nil {
				return nil, err
			}
			pr.SettingsLayer = &d
		}
		res.Platforms = append(res.Platforms, pr)
		if s.base.Image != nil {
			return &transport.Artifact{Image: img}, nil
		}
		desc := v1.Descriptor{Platform: &p.platform}
		if p.desc != nil {
			desc.Annotations = p.desc.Annotations
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: desc})
	}
	im, err := s.base.Index.IndexManifest()
	if err != nil {
		return nil, err
	}
	idx := mutate.IndexMediaType(empty.Index, im.MediaType)
	idx = mutate.AppendManifests(idx, adds...)
	ann := map[string]string{}
	for k, v := range im.Annotations {
		ann[k] = v
	}
	ann[buildplan.LabelBaseName] = s.baseName
	ann[buildplan.LabelBaseDigest] = s.baseDigest.String()
	ann[buildplan.LabelVersion] = opts.Plan.JbuildVersion
	idx = mutate.Annotations(idx, ann).(v1.ImageIndex)
	return &transport.Artifact{Index: idx}, nil
}

// Unwrap writes the exact base image a jbuild output was made from to dst.
func Unwrap(ctx context.Context, src, dst transport.Store, opts Options) (*Result, error) {
	return inDaemon(ctx, src, dst, &opts, func(src, dst transport.Store) (*Result, error) { return unwrap(ctx, src, dst, opts) })
}

func unwrap(ctx context.Context, src, dst transport.Store, opts Options) (*Result, error) {
	a, err := src.Get(ctx)
	if err != nil {
		return nil, err
	}
	if inImage, err := inImageClaim(a); err != nil {
		return nil, fmt.Errorf("reading %s: %w", src.Ref(), err)
	} else if inImage {
		base, h, err := rebuiltBase(a)
		if err != nil {
			return nil, fmt.Errorf("%s carries jbuild's labels but is not jbuild's output (%w): unwrapping it would drop what was added to it; unwrap the image it was built from instead", src.Ref(), err)
		}
		return writeUnwrapped(ctx, a, base, h, "", dst, src, opts)
	}
	name, digest, ok, err := wrappedBase(a)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", src.Ref(), err)
	}
	if !ok {
		return nil, fmt.Errorf("%s is not a jbuild output (no %s label): nothing to unwrap", src.Ref(), buildplan.LabelBaseDigest)
	}
	if err := checkOutput(a, nil); err != nil {
		return nil, fmt.Errorf("%s carries jbuild's labels but is not jbuild's output (%w): unwrapping it would drop what was added to it; unwrap the image it was built from instead", src.Ref(), err)
	}
	h, err := v1.NewHash(digest)
	if err != nil {
		return nil, fmt.Errorf("%s: label %s=%q is not a digest: %w", src.Ref(), buildplan.LabelBaseDigest, digest, err)
	}
	base, err := FindBase(ctx, src, name, h, opts.Stores)
	if err != nil {
		return nil, err
	}
	got, err := base.Digest()
	if err != nil {
		return nil, err
	}
	if err := checkOutput(a, base); err != nil {
		return nil, fmt.Errorf("%s is not jbuild's output of %s@%s (%w): refusing to unwrap it", src.Ref(), name, h, err)
	}
	if got != h {
		return nil, fmt.Errorf("base of %s: found %s but expected %s; refusing to write a different image", src.Ref(), got, h)
	}
	return writeUnwrapped(ctx, a, base, h, name, dst, src, opts)
}

// writeUnwrapped writes base, the base of output a (named name, "" when
// rebuilt from a), to dst.
func writeUnwrapped(ctx context.Context, a, base *transport.Artifact, h v1.Hash, name string, dst, src transport.Store, opts Options) (*Result, error) {
	srcDigest, _ := a.Digest()
	res := &Result{Source: src.Ref().String(), SourceDigest: srcDigest.String(), Base: name, BaseDigest: h.String(), Target: dst.Ref().String(), TargetDigest: h.String()}
	existing, err := dst.Get(ctx)
	switch {
	case errors.Is(err, transport.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("checking target %s: %w", dst.Ref(), err)
	default:
		d, _ := existing.Digest()
		if d == h {
			res.Unchanged = true
			return res, nil
		}
		if !opts.Force {
			return nil, fmt.Errorf("target %s already exists with another image (%s): pass --force to replace it, or pick another tag with -t", dst.Ref(), d)
		}
	}
	if err := dst.Put(ctx, base); err != nil {
		return nil, err
	}
	return res, nil
}
