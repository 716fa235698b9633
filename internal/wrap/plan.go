package wrap

import (
	"context"
	"fmt"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/imagefs"
	"github.com/jbuild-dev/jbuild/templates"
)

// planned is one platform with its plan and the bundle the plan copies from.
type planned struct {
	platformImage
	plan   *buildplan.Plan
	bundle *agent.Bundle
}

// bundles caches agent bundles per platform: an index with four platforms
// and a platform-independent agent opens the agent once.
type bundles struct {
	src   agent.Source
	multi bool
	mu    sync.Mutex // get runs from the early agent layer goroutine too
	cache map[string]*agent.Bundle
}

func newBundles(ctx context.Context, src agent.Source) (*bundles, error) {
	if src == nil {
		return nil, fmt.Errorf("no agent given: pass --agent with an agent folder, .zip/.tar.gz, download URL or agent image")
	}
	ps, err := src.Platforms(ctx)
	if err != nil {
		// internal/agent's errors name the agent already ("reading agent
		// folder X: ..."): saying it twice reads as two failures.
		if strings.HasPrefix(err.Error(), "reading agent ") {
			return nil, err
		}
		return nil, fmt.Errorf("reading agent %s: %w", src, err)
	}
	return &bundles{src: src, multi: len(ps) > 0, cache: map[string]*agent.Bundle{}}, nil
}

func (b *bundles) get(ctx context.Context, p v1.Platform) (*agent.Bundle, error) {
	key := ""
	var want *v1.Platform
	if b.multi {
		key, want = p.String(), &p
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if bu, ok := b.cache[key]; ok {
		return bu, nil
	}
	bu, err := b.src.Bundle(ctx, want)
	if err != nil {
		return nil, fmt.Errorf("agent for %s: %w", p.String(), err)
	}
	b.cache[key] = bu
	return bu, nil
}

func planAll(ctx context.Context, s *source, opts *Options, bs *bundles) ([]*planned, []string, error) {
	imgs, dropped, err := s.platformImages(opts)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*planned, 0, len(imgs))
	for _, pi := range imgs {
		p, err := planOne(ctx, s, pi, bs, opts)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, p)
	}
	return out, dropped, nil
}

func planOne(ctx context.Context, s *source, pi platformImage, bs *bundles, opts *Options) (*planned, error) {
	cf, err := pi.image.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading config of %s (%s): %w", s.baseName, pi.platform.String(), err)
	}
	d, err := pi.image.Digest()
	if err != nil {
		return nil, err
	}
	label := fmt.Sprintf("%s (%s)", s.baseName, pi.platform.String())
	var fsys *imagefs.FS
	img := buildplan.Image{
		Reference: s.baseName,
		Digest:    d.String(),
		Platform:  ociPlatform(pi.platform),
		Config:    OCIConfig(cf.Config),
	}
	if fi, ok := pi.image.(filesImage); ok {
		img.FS = fi.Files(label)
	} else {
		fsys = imagefs.New(pi.image, label, buildplan.ContentPaths(),
			imagefs.WithCache(opts.LayerFilesCache, imagefs.DefaultCacheMax),
			imagefs.WithUnread(unreadLayers(cf, opts.Profile)),
			imagefs.WithDownloadStart(opts.downloading))
		img.FS = fsys
	}
	bundle, err := bs.get(ctx, pi.platform)
	if err != nil {
		return nil, err
	}
	prof, err := templates.Choose(img, bundle.Files, opts.Profile, opts.Plan.Runtime)
	if err != nil {
		return nil, err
	}
	po := opts.Plan
	po.BaseName = s.baseName
	po.Previous = s.previous
	plan, err := buildplan.Make(img, prof, bundle.Agent, po)
	if err != nil {
		return nil, err
	}
	if fsys != nil {
		plan.Unread = fsys.Unread
	}
	return &planned{platformImage: pi, plan: plan, bundle: bundle}, nil
}

// unreadLayers are the layers of an image planning need not read (a CI
// build's new COPY of the application: see templates.UnreadLayers).
func unreadLayers(cf *v1.ConfigFile, forced *buildplan.Profile) map[int]string {
	history := make([]ocispec.History, len(cf.History))
	for i, h := range cf.History {
		history[i] = ocispec.History{CreatedBy: h.CreatedBy, EmptyLayer: h.EmptyLayer}
	}
	return templates.UnreadLayers(history, len(cf.RootFS.DiffIDs), cf.Config.WorkingDir, forced)
}
