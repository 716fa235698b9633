package goimage

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Build compiles the spec's package for every platform of opts and
// assembles the OCI image index in memory, without a daemon: push it with
// remote.WriteIndex, or write it as an OCI layout with layout.Write.
func (s Spec) Build(ctx context.Context, opts Options) (idx v1.ImageIndex, err error) {
	err = s.staged(ctx, opts, func(opts Options, dir string) error {
		var adds []mutate.IndexAddendum
		for _, p := range opts.Platforms {
			img, err := s.image(dir, p, opts)
			if err != nil {
				return fmt.Errorf("building the %s image for %s: %w", s.Name, p, err)
			}
			p := p
			adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
		}
		idx = mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
		return nil
	})
	return idx, err
}

// image is the single-layer image of platform p.
func (s Spec) image(dir string, p v1.Platform, opts Options) (v1.Image, error) {
	layer, err := s.layer(dir, p, opts)
	if err != nil {
		return nil, err
	}
	// One config for both ways: the OCI config of Config, read as
	// go-containerregistry's, its history entry added with the layer.
	oc := s.Config(p, opts)
	raw, err := json.Marshal(oc)
	if err != nil {
		return nil, err
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	hist := cfg.History[0]
	cfg.History = nil
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.ConfigFile(base, cfg)
	if err != nil {
		return nil, err
	}
	return mutate.Append(img, mutate.Addendum{Layer: layer, History: hist})
}

// layer is the tar of the spec's files for platform p. Every header field
// that could vary between machines is fixed (times, owner names, no PAX
// records for access/change times), so the layer digest depends on the
// file contents only.
func (s Spec) layer(dir string, p v1.Platform, opts Options) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i, f := range s.Files {
		h := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     strings.TrimPrefix(f.Path, "/"),
			Mode:     int64(f.Mode),
			Uid:      f.UID,
			Gid:      f.UID,
			ModTime:  opts.Created,
			Format:   tar.FormatUSTAR,
		}
		var data []byte
		if f.Dir {
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
		} else {
			var err error
			if data, err = os.ReadFile(filepath.Join(dir, s.source(i, p))); err != nil {
				return nil, err
			}
			h.Size = int64(len(data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	// Compressed once and kept: the push and the digest read the same bytes.
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithCompressedCaching, tarball.WithMediaType(types.OCILayer))
}
