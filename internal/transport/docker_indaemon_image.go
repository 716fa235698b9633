package transport

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/api/types/image"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// daemonImage is an image read in the daemon's in-daemon mode: its config
// rebuilt from ImageInspect and ImageHistory, its layers named by diff ID
// and never read (they stay in the daemon), its files through a container
// (Files). Digest and ConfigName are the image ID, the daemon's name for
// it; the manifest is a description for go-containerregistry's mutate
// (the layers' "digests" are their diff IDs), never written anywhere.
type daemonImage struct {
	id     v1.Hash
	cf     *v1.ConfigFile
	raw    []byte
	sizes  []int64
	layers []*daemonLayer
	files  func(label string) *daemonFiles
}

var _ v1.Image = (*daemonImage)(nil)

func newDaemonImage(info inspected, hist []image.HistoryResponseItem) (*daemonImage, error) {
	id, err := v1.NewHash(info.ID)
	if err != nil {
		return nil, fmt.Errorf("image ID %q: %w", info.ID, err)
	}
	cf := &v1.ConfigFile{
		Architecture: info.Architecture, Author: info.Author, Container: info.Container,
		DockerVersion: info.DockerVersion, OS: info.Os, OSVersion: info.OsVersion, Variant: info.Variant,
		Config: info.Config, RootFS: v1.RootFS{Type: info.RootFS.Type},
	}
	if info.Created != "" {
		t, err := time.Parse(time.RFC3339Nano, info.Created)
		if err != nil {
			return nil, fmt.Errorf("created time %q: %w", info.Created, err)
		}
		cf.Created = v1.Time{Time: t}
	}
	for _, l := range info.RootFS.Layers {
		h, err := v1.NewHash(l)
		if err != nil {
			return nil, fmt.Errorf("layer %q: %w", l, err)
		}
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, h)
	}
	var sizes []int64
	cf.History, sizes, err = historyFrom(hist, info.RootFS.Layers)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(cf)
	if err != nil {
		return nil, err
	}
	img := &daemonImage{id: id, cf: cf, raw: raw, sizes: sizes}
	for i, d := range cf.RootFS.DiffIDs {
		img.layers = append(img.layers, &daemonLayer{diffID: d, size: sizes[i]})
	}
	return img, nil
}

// historyFrom rebuilds the config's history from ImageHistory (newest
// first, times to the second, layer sizes). Which entries made a layer is
// not reported: an entry with a size did; of those without, the ones whose
// instruction makes a layer (RUN, COPY, ADD, WORKDIR) did, when that is
// exactly as many as the layers left over. Anything else is refused
// (ErrNotInDaemon: the caller exports the image instead). sizes are the
// layers' sizes, bottom first.
func historyFrom(hist []image.HistoryResponseItem, diffIDs []string) ([]v1.History, []int64, error) {
	if len(hist) == 0 {
		return nil, make([]int64, len(diffIDs)), nil
	}
	sized, layerLike := 0, 0
	for _, h := range hist {
		switch {
		case h.Size > 0:
			sized++
		case makesLayer(h.CreatedBy):
			layerLike++
		}
	}
	zeroLayers := len(diffIDs) - sized
	if zeroLayers != 0 && zeroLayers != layerLike {
		return nil, nil, fmt.Errorf("the image's history (as the daemon reports it) does not tell which of its entries made its %d layers", len(diffIDs))
	}
	var out []v1.History
	var sizes []int64
	for i := len(hist) - 1; i >= 0; i-- {
		h := hist[i]
		e := v1.History{Created: v1.Time{Time: time.Unix(h.Created, 0).UTC()}, CreatedBy: h.CreatedBy, Comment: h.Comment}
		e.EmptyLayer = h.Size == 0 && (zeroLayers == 0 || !makesLayer(h.CreatedBy))
		if !e.EmptyLayer {
			sizes = append(sizes, h.Size)
		}
		out = append(out, e)
	}
	if len(sizes) != len(diffIDs) {
		return nil, nil, fmt.Errorf("the image's history (as the daemon reports it) names %d of its %d layers", len(sizes), len(diffIDs))
	}
	return out, sizes, nil
}

// makesLayer: a history entry whose instruction writes files, in the
// classic builder's form ("/bin/sh -c #(nop) COPY …", "/bin/sh -c cmd")
// and BuildKit's ("COPY …", "RUN /bin/sh -c …").
func makesLayer(createdBy string) bool {
	s := strings.TrimSpace(createdBy)
	if rest, ok := strings.CutPrefix(s, "/bin/sh -c "); ok {
		nop, isNop := strings.CutPrefix(strings.TrimSpace(rest), "#(nop) ")
		if !isNop {
			return true // a RUN
		}
		s = strings.TrimSpace(nop)
	}
	for _, k := range []string{"RUN ", "COPY ", "ADD ", "WORKDIR "} {
		if strings.HasPrefix(s, k) {
			return true
		}
	}
	return false
}

func (i *daemonImage) Layers() ([]v1.Layer, error) {
	out := make([]v1.Layer, len(i.layers))
	for j, l := range i.layers {
		out[j] = l
	}
	return out, nil
}

func (i *daemonImage) MediaType() (types.MediaType, error) { return types.DockerManifestSchema2, nil }
func (i *daemonImage) Size() (int64, error) {
	m, err := i.RawManifest()
	return int64(len(m)), err
}
func (i *daemonImage) ConfigName() (v1.Hash, error)              { return i.id, nil }
func (i *daemonImage) ConfigFile() (*v1.ConfigFile, error)       { return i.cf.DeepCopy(), nil }
func (i *daemonImage) RawConfigFile() ([]byte, error)            { return i.raw, nil }
func (i *daemonImage) Digest() (v1.Hash, error)                  { return i.id, nil }
func (i *daemonImage) RawManifest() ([]byte, error)              { return json.Marshal(i.manifest()) }
func (i *daemonImage) Manifest() (*v1.Manifest, error)           { return i.manifest(), nil }
func (i *daemonImage) LayerByDigest(h v1.Hash) (v1.Layer, error) { return i.LayerByDiffID(h) }
func (i *daemonImage) LayerByDiffID(h v1.Hash) (v1.Layer, error) {
	for _, l := range i.layers {
		if l.diffID == h {
			return l, nil
		}
	}
	return nil, fmt.Errorf("image %s has no layer %s", i.id, h)
}

func (i *daemonImage) manifest() *v1.Manifest {
	m := &v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.DockerManifestSchema2,
		Config:        v1.Descriptor{MediaType: types.DockerConfigJSON, Size: int64(len(i.raw)), Digest: i.id},
	}
	for _, l := range i.layers {
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: types.DockerUncompressedLayer, Size: l.size, Digest: l.diffID})
	}
	return m
}

// Files is the image's files as planning reads them, through a created,
// never started container of the image (removed when the store closes).
func (i *daemonImage) Files(label string) buildplan.ImageFS {
	if i.files == nil {
		return nil
	}
	return i.files(label)
}

// daemonLayer is a layer the daemon holds: named by its diff ID, never
// read in in-daemon mode.
type daemonLayer struct {
	diffID v1.Hash
	size   int64
}

var _ v1.Layer = (*daemonLayer)(nil)

var errLayerInDaemon = errors.New("the layer stays in the Docker daemon (in-daemon mode reads no layer)")

func (l *daemonLayer) Digest() (v1.Hash, error)             { return l.diffID, nil }
func (l *daemonLayer) DiffID() (v1.Hash, error)             { return l.diffID, nil }
func (l *daemonLayer) Size() (int64, error)                 { return l.size, nil }
func (l *daemonLayer) MediaType() (types.MediaType, error)  { return types.DockerUncompressedLayer, nil }
func (l *daemonLayer) Compressed() (io.ReadCloser, error)   { return nil, errLayerInDaemon }
func (l *daemonLayer) Uncompressed() (io.ReadCloser, error) { return nil, errLayerInDaemon }
