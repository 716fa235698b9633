package wrapfiles

import (
	"context"
	"errors"
	"fmt"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// resolve reads the image a manifest names and decides its target: tag +
// suffix in the same repository, or for a jbuild output its own tag (an
// agent upgrade in place). Images that carry the agent already without a
// way to upgrade them, or that have no tag to derive a target from, are
// left alone with a note (im.src stays nil).
func (im *image) resolve(ctx context.Context, w Wrapper, suffix string, notef func(string, ...any)) error {
	r, err := transport.Parse(im.value)
	if err != nil || r.Kind != transport.KindRegistry {
		notef("%s (%s) left alone: not a registry image reference", im.value, im.where)
		return nil
	}
	srcSpec := im.value
	if im.ref.Digest != "" {
		// What the cluster runs is the digest, whatever the tag says now...
		srcSpec = im.ref.Repository + "@" + im.ref.Digest
		if im.ref.Tag != "" {
			// ...but when the tag still names it, wrap it by its tag, so
			// that REPO:TAG and REPO:TAG@DIGEST give the same image.
			if d, err := storeDigest(ctx, w, im.ref.Repository+":"+im.ref.Tag); err == nil && d == im.ref.Digest {
				srcSpec = im.ref.Repository + ":" + im.ref.Tag
			}
		}
	}
	src, err := w.Open(srcSpec)
	if err != nil {
		return err
	}
	a, err := src.Get(ctx)
	if err != nil {
		return err
	}
	d, err := a.Digest()
	if err != nil {
		return err
	}
	labels, err := artifactLabels(a)
	if err != nil {
		return fmt.Errorf("reading %s: %w", srcSpec, err)
	}
	tag := im.ref.Tag
	switch {
	case labels[buildplan.LabelVersion] != "" && labels[buildplan.LabelBaseDigest] == "":
		notef("%s (%s) left alone: it already carries the agent (built with the jbuild frontend)", im.value, im.where)
		return nil
	case labels[buildplan.LabelVersion] != "":
		// A jbuild output: wrapping it again upgrades its agent in place,
		// under the tag the manifest names.
		if tag == "" {
			notef("%s (%s) left alone: already monitored, and pinned by digest with no tag to upgrade in place", im.value, im.where)
			return nil
		}
	case tag == "" && im.ref.Digest != "":
		notef("%s (%s) left alone: pinned by digest with no tag to derive the monitored variant's tag from; wrap it with jbuild wrap IMAGE -t TARGET", im.value, im.where)
		return nil
	case tag == "":
		tag = "latest" + suffix
	default:
		tag += suffix
	}
	im.src, im.digest, im.tag = src, d.String(), tag
	return nil
}

func storeDigest(ctx context.Context, w Wrapper, spec string) (string, error) {
	st, err := w.Open(spec)
	if err != nil {
		return "", err
	}
	a, err := st.Get(ctx)
	if err != nil {
		return "", err
	}
	d, err := a.Digest()
	return d.String(), err
}

// sameTargets links images that wrap the same source to the same target
// (one wrap for both), and refuses two different images that would both
// be written to one tag.
func sameTargets(images []*image) error {
	first := map[string]*image{}
	for _, im := range images {
		if im.src == nil {
			continue
		}
		p, ok := first[im.target()]
		if !ok {
			first[im.target()] = im
			continue
		}
		if p.digest != im.digest {
			return fmt.Errorf("%s (%s) and %s (%s) are different images (%s, %s) that would both be wrapped to %s; make the manifests name one of them, or wrap them separately with jbuild wrap IMAGE -t TARGET; no manifest was changed",
				p.value, p.where, im.value, im.where, p.digest, im.digest, im.target())
		}
		im.same = p
	}
	return nil
}

func refusal(err error) bool {
	var re *buildplan.RefusalError
	return errors.As(err, &re)
}

// artifactLabels are an image's config labels or an index's annotations,
// where jbuild records that an image is its output.
func artifactLabels(a *transport.Artifact) (map[string]string, error) {
	if a.Index != nil {
		im, err := a.Index.IndexManifest()
		if err != nil {
			return nil, err
		}
		return im.Annotations, nil
	}
	cf, err := a.Image.ConfigFile()
	if err != nil {
		return nil, err
	}
	return cf.Config.Labels, nil
}
