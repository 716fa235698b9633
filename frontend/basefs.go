package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/templates"
)

// Planning reads the image: the folders above the install dir, the user
// database, the runtime. Reading the build's result means waiting for the
// build to end, then a round trip to buildkitd per read, each mounting the
// result: on a warm build that is most of what jbuild adds to BuildKit's
// own frontend. But a Dockerfile's last stage mostly adds the application
// on top of its base (COPY app.jar /app/), and what planning reads is then
// the base's, which is known from the moment the FROM line is resolved.
//
// So the Dockerfile builder runs with a client that notes every image a
// FROM resolves and starts reading it at once (the install dirs' parents),
// while the build context is still loading. Once the build is known, its
// result is planned from that base when the base's layers are the bottom
// of the result's and every layer the build added is one planning need not
// read: the rule `jbuild wrap` applies to a CI build's new layer
// (templates.UnreadLayers). Otherwise the result itself is read, as
// before. The plan's evidence says which layers were not read, and why.

// baseWatcher is the gateway client the Dockerfile builder runs with.
type baseWatcher struct {
	gwclient.Client
	ctx context.Context // the build's: base reads outlive a ResolveImageConfig call
	// known is the profile whose install dir to read ahead if it is known
	// already, nil for every built-in one's (Injector.knownProfile).
	known func(ocispecs.Platform) *buildplan.Profile
	// resolved runs after each image resolution the build asks for: the
	// first one lets the agent's own resolution start (Build).
	resolved func()

	mu    sync.Mutex
	bases []*baseImage
}

// maxBases bounds the images read ahead (a Dockerfile with many stages
// names many): the last stage's base is usually among the first FROMs.
const maxBases = 4

// baseImage is an image a FROM resolved, and its files once solved.
type baseImage struct {
	ref      string // name@digest
	platform ocispecs.Platform
	diffIDs  []digest.Digest
	history  []ocispecs.History

	ready chan struct{} // closed once fs or err is set
	fs    *refFS
	err   error
}

func newBaseWatcher(ctx context.Context, c gwclient.Client, known func(ocispecs.Platform) *buildplan.Profile, resolved func()) *baseWatcher {
	return &baseWatcher{Client: c, ctx: ctx, known: known, resolved: resolved}
}

// ResolveImageConfig notes a FROM image (one resolved with image options
// and a digest) and starts reading it.
func (w *baseWatcher) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	name, dgst, cfg, err := w.Client.ResolveImageConfig(ctx, ref, opt)
	if err == nil && dgst != "" && opt.ImageOpt != nil {
		w.note(name, dgst, opt.ImageOpt.Platform, cfg)
	}
	if w.resolved != nil {
		w.resolved()
	}
	return name, dgst, cfg, err
}

func (w *baseWatcher) note(name string, dgst digest.Digest, p *ocispecs.Platform, cfg []byte) {
	var img dockerspec.DockerOCIImage
	if json.Unmarshal(cfg, &img) != nil || len(img.RootFS.DiffIDs) == 0 {
		return // unreadable, or scratch: nothing to read ahead
	}
	platform := ocispecs.Platform{OS: img.OS, Architecture: img.Architecture, Variant: img.Variant}
	if p != nil {
		platform = *p
	}
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name = name[:i] // FROM name@digest: the digest is added below
	}
	b := &baseImage{ref: name + "@" + dgst.String(), platform: platform, diffIDs: img.RootFS.DiffIDs, history: img.History, ready: make(chan struct{})}
	w.mu.Lock()
	if len(w.bases) >= maxBases || slices.ContainsFunc(w.bases, func(o *baseImage) bool {
		return o.ref == b.ref && samePlatform(o.platform, b.platform)
	}) {
		w.mu.Unlock()
		return
	}
	w.bases = append(w.bases, b)
	w.mu.Unlock()
	go b.load(w.ctx, w.Client, w.known)
}

// load solves the image (the same vertex as the build's FROM, so BuildKit
// pulls it once) and stats the install dirs' parents on it.
func (b *baseImage) load(ctx context.Context, c gwclient.Client, known func(ocispecs.Platform) *buildplan.Profile) {
	defer close(b.ready)
	def, err := llb.Image(b.ref, llb.Platform(b.platform)).Marshal(ctx, llb.Platform(b.platform))
	if err != nil {
		b.err = err
		return
	}
	res, err := c.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		b.err = err
		return
	}
	ref, err := res.SingleRef()
	if err != nil {
		b.err = err
		return
	}
	b.fs = newRefFS(ctx, ref, "/")
	prefetchInstallDirs(b.fs, known(b.platform))
}

// planFS picks what planning reads for t: a base it was built on (see
// above) when every layer the build added on it is one planning need not
// read, with the evidence; else nil. A build's config (the one the
// Dockerfile builder hands over, before export) lists its base's layers and
// the history of every step, its own included: so "built on b" is that the
// history begins with b's whole history and the layers with b's layers,
// and what the build added is told by the history entries after b's.
func (w *baseWatcher) planFS(ctx context.Context, t Target, img dockerspec.DockerOCIImage, forced *buildplan.Profile) (*refFS, []string) {
	if w == nil {
		return nil, nil
	}
	w.mu.Lock()
	bases := slices.Clone(w.bases)
	w.mu.Unlock()
	var best *baseImage
	var bestWhy []string
	for _, b := range bases {
		if !samePlatform(b.platform, t.Platform) {
			continue
		}
		why, ok := addedUnread(b, img, forced)
		if ok && (best == nil || len(b.history) > len(best.history)) {
			best, bestWhy = b, why
		}
	}
	if best == nil {
		return nil, nil
	}
	select {
	case <-best.ready:
	case <-ctx.Done():
		return nil, nil
	}
	if best.err != nil {
		return nil, nil
	}
	return best.fs, bestWhy
}

// addedUnread reports whether img was built on b with only layers planning
// need not read (templates.UnreadLayers), and why each need not be read.
func addedUnread(b *baseImage, img dockerspec.DockerOCIImage, forced *buildplan.Profile) ([]string, bool) {
	h := img.History
	if len(h) < len(b.history) || len(img.RootFS.DiffIDs) < len(b.diffIDs) ||
		!slices.Equal(b.diffIDs, img.RootFS.DiffIDs[:len(b.diffIDs)]) {
		return nil, false
	}
	for i, bh := range b.history {
		if bh.CreatedBy != h[i].CreatedBy || bh.EmptyLayer != h[i].EmptyLayer || bh.Comment != h[i].Comment {
			return nil, false
		}
	}
	layers := len(b.diffIDs)
	for _, e := range h[len(b.history):] {
		if !e.EmptyLayer {
			layers++
		}
	}
	unread := templates.UnreadLayers(h, layers, img.Config.WorkingDir, forced)
	var why []string
	for i := len(b.diffIDs); i < layers; i++ {
		r, ok := unread[i]
		if !ok {
			return nil, false // a layer the build added may change what planning reads
		}
		why = append(why, fmt.Sprintf("layer %d not read: %s", i+1, r))
	}
	return why, true
}

func samePlatform(a, b ocispecs.Platform) bool {
	a, b = platforms.Normalize(a), platforms.Normalize(b)
	return a.OS == b.OS && a.Architecture == b.Architecture && a.Variant == b.Variant
}
