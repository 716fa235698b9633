package transport

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"golang.org/x/sync/errgroup"
)

// uploadJobs is how many blobs are uploaded at once, as ggcr's default.
const uploadJobs = 4

// addBlobs records every manifest and blob a (and its children) references.
func addBlobs(known map[v1.Hash]bool, a *Artifact) error {
	if a.Index != nil {
		return addIndexBlobs(known, a.Index)
	}
	return addImageBlobs(known, a.Image)
}

func addIndexBlobs(known map[v1.Hash]bool, idx v1.ImageIndex) error {
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	known[d] = true
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, desc := range im.Manifests {
		known[desc.Digest] = true
		if !desc.MediaType.IsImage() {
			continue
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			return err
		}
		if err := addImageBlobs(known, img); err != nil {
			return err
		}
	}
	return nil
}

func addImageBlobs(known map[v1.Hash]bool, img v1.Image) error {
	m, err := img.Manifest()
	if err != nil {
		return err
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	known[d] = true
	known[m.Config.Digest] = true
	for _, l := range m.Layers {
		known[l.Digest] = true
	}
	return nil
}

// putKnown writes a when the repository is known to hold the blobs in
// known: only the other blobs are uploaded (each checked and uploaded once),
// then child manifests by digest, then the manifest under the reference,
// last. Upload progress is reported per blob through ggcr's log lines; the
// byte counter channel is closed here since ggcr never sees it.
func (s *registryStore) putKnown(ctx context.Context, a *Artifact, known map[v1.Hash]bool) (err error) {
	if s.opts.Progress != nil {
		defer close(s.opts.Progress)
	}
	// Layers go through a ggcr pusher (it mounts them from other
	// repositories); configs and manifests through the push client
	// (directOptions), which costs no ping of its own.
	opts := s.remoteOptions(ctx)
	pusher, err := remote.NewPusher(opts...)
	if err != nil {
		return fmt.Errorf("pushing %s: %w", s.ref, err)
	}
	p := knownPut{layers: append(opts, remote.Reuse(pusher)), known: known}
	if p.direct, err = s.directOptions(ctx); err != nil {
		return s.pushError(fmt.Sprintf("pushing %s", s.ref), fmt.Errorf("%w%s", err, authHint(err, s.ref.Registry)))
	}
	if a.Index != nil {
		return s.putIndexKnown(ctx, s.ref.Registry, a.Index, p)
	}
	return s.putImageKnown(ctx, s.ref.Registry, a.Image, p)
}

// knownPut is what putKnown's steps share: the ggcr options for layers
// and for everything else, and the blobs known to be in the repository.
type knownPut struct {
	layers, direct []remote.Option
	known          map[v1.Hash]bool
}

func (s *registryStore) putIndexKnown(ctx context.Context, ref name.Reference, idx v1.ImageIndex, p knownPut) error {
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	repo := s.ref.Registry.Context()
	for _, desc := range im.Manifests {
		if p.known[desc.Digest] {
			continue
		}
		if !desc.MediaType.IsImage() {
			return fmt.Errorf("pushing %s: index entry %s is a %s; only images can be written here", ref, desc.Digest, desc.MediaType)
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			return err
		}
		if err := s.putImageKnown(ctx, repo.Digest(desc.Digest.String()), img, p); err != nil {
			return err
		}
	}
	s.releaseSpares()
	if err := remote.Put(ref, idx, p.direct...); err != nil {
		return s.pushError(fmt.Sprintf("pushing %s", ref), fmt.Errorf("%w%s", err, authHint(err, ref)))
	}
	return nil
}

func (s *registryStore) putImageKnown(ctx context.Context, ref name.Reference, img v1.Image, p knownPut) error {
	repo := s.ref.Registry.Context()
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(uploadJobs)
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		if p.known[d] {
			continue
		}
		l := l
		g.Go(func() error {
			// A streamed blob still committing: wait for it, and upload it
			// here only if the registry did not take it.
			if ok, err := s.awaitUploaded(gctx, d); err != nil || ok {
				return err
			}
			ml := s.mountable(l, d)
			if m, ok := ml.(*remote.MountableLayer); ok {
				// A failed direct mount is left to ggcr, which asks again
				// with its own retries and uploads if need be.
				if mounted, err := s.mountDirect(gctx, d, m); err == nil && mounted {
					return nil
				}
			}
			if err := remote.WriteLayer(repo, ml, append(p.layers, remote.WithContext(gctx))...); err != nil {
				return s.pushError(fmt.Sprintf("pushing %s: layer %s", ref, d), fmt.Errorf("%w%s", err, authHint(err, ref)))
			}
			return nil
		})
	}
	if cfgName, err := img.ConfigName(); err != nil {
		return err
	} else if !p.known[cfgName] {
		raw, err := img.RawConfigFile()
		if err != nil {
			return err
		}
		m, err := img.Manifest()
		if err != nil {
			return err
		}
		g.Go(func() error {
			chunked := func() error {
				return remote.WriteLayer(repo, static.NewLayer(raw, m.Config.MediaType), append(p.layers, remote.WithContext(gctx))...)
			}
			if err := s.putSmallBlob(gctx, cfgName, raw, chunked); err != nil {
				return s.pushError(fmt.Sprintf("pushing %s: config %s", ref, cfgName), fmt.Errorf("%w%s", err, authHint(err, ref)))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if ref == s.ref.Registry {
		s.releaseSpares() // every blob is up: cancel the unused sessions alongside the manifest PUT
	}
	if err := remote.Put(ref, img, p.direct...); err != nil {
		return s.pushError(fmt.Sprintf("pushing %s", ref), fmt.Errorf("%w%s", err, authHint(err, ref)))
	}
	return nil
}

// mountable lets ggcr mount a layer that was streamed to another
// repository of this registry (it says so with a MountFrom() string
// method) instead of uploading it: the registry links the blob, and jbuild
// neither reads nor sends a byte. ggcr uploads it when the mount is
// refused.
func (s *registryStore) mountable(l v1.Layer, d v1.Hash) v1.Layer {
	m, ok := l.(interface{ MountFrom() string })
	if !ok || m.MountFrom() == "" {
		return l
	}
	repo := s.ref.Registry.Context()
	var opts []name.Option
	if repo.Registry.Scheme() == "http" {
		opts = append(opts, name.Insecure)
	}
	from, err := name.NewDigest(m.MountFrom()+"@"+d.String(), opts...)
	if err != nil || from.Context().RegistryStr() != repo.RegistryStr() || from.Context().Name() == repo.Name() {
		return l
	}
	return &remote.MountableLayer{Layer: l, Reference: from}
}
