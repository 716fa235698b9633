package transport

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/client"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// This file is the Docker daemon store's in-daemon mode: wrapping an image
// the daemon holds into a tag of the same daemon without moving the image.
// `docker save` makes the daemon write every layer of the image to a temp
// folder before it sends a byte, and `docker load` of the result sends them
// all back; for a change of a few MB that is nearly all of the time a wrap
// takes (16.5–19.5 s for a 395 MB image, issue 14). In this mode:
//
//   - reading an image is ImageInspect and ImageHistory (its config, as the
//     daemon reports it) plus, for planning, the few files detection needs
//     read through a created, never started container (daemonFiles);
//   - writing is `docker load` of an archive that holds the new config and
//     only the layers the daemon does not have: docker load skips every
//     layer whose chain it already holds without opening its file, so the
//     base's layers need not be in the archive at all (moby
//     image/tarexport/load.go, the same from 20.10 to 28.x with the
//     graphdriver image store);
//   - an image's identity is its image ID (the config digest), which is how
//     Docker names images: Digest of an image read in this mode is its image
//     ID, and the agent layer and settings layer are the same bytes as a
//     wrap to any other store gives.
//
// The config is rebuilt from what the Engine API reports (the daemon has no
// endpoint for the config's bytes), so the wrapped image's config lists the
// same fields, env, labels, user and layers as the source's, with history
// times to the second (what ImageHistory reports); its image ID is therefore
// not the one a wrap through a registry gives.
//
// The mode needs the daemon's graphdriver image store (overlay2 and the
// others; the default up to Docker 28). With the containerd image store
// docker load imports every blob of the archive, so InDaemon declines and
// the store saves and loads whole images as before.

// ErrNotInDaemon is wrapped by in-daemon stores when an image cannot be
// wrapped inside the daemon; the caller then uses the daemon's ordinary
// store (docker save and docker load).
var ErrNotInDaemon = errors.New("cannot wrap inside the Docker daemon")

// InDaemon returns in-daemon stores for src and dst when both are images of
// the same Docker daemon whose image store lets an archive leave out the
// layers the daemon holds (dst may be nil: planning alone). ok is false
// otherwise, and src and dst are returned as they are.
func InDaemon(ctx context.Context, src, dst Store) (Store, Store, bool) {
	s, ok := src.(*dockerStore)
	if !ok {
		return src, dst, false
	}
	var d *dockerStore
	if dst != nil {
		if d, ok = dst.(*dockerStore); !ok || d.opts.Host != s.opts.Host {
			return src, dst, false
		}
	}
	cli, err := s.client()
	if err != nil {
		return src, dst, false
	}
	if !graphdriverStore(ctx, cli) {
		return src, dst, false
	}
	is := &inDaemonStore{dockerStore: s}
	if d == nil {
		return is, dst, true
	}
	return is, &inDaemonStore{dockerStore: d}, true
}

// graphdriverStore reports whether the daemon keeps images in its own
// layer store (not the containerd image store, which reports the
// snapshotter's driver type).
func graphdriverStore(ctx context.Context, cli *client.Client) bool {
	info, err := cli.Info(ctx)
	if err != nil {
		return false
	}
	for _, kv := range info.DriverStatus {
		if kv[0] == "driver-type" && strings.Contains(kv[1], "containerd") {
			return false
		}
	}
	return info.Driver != ""
}

// inDaemonStore is a dockerStore read and written without moving images
// out of or into the daemon (see above).
type inDaemonStore struct {
	*dockerStore
	files []*daemonFiles // containers to remove on Close
}

var _ Store = (*inDaemonStore)(nil)

// Close removes the containers planning created, then closes the client.
func (s *inDaemonStore) Close() error {
	for _, f := range s.files {
		f.close()
	}
	s.files = nil
	return s.dockerStore.Close()
}

func (s *inDaemonStore) Get(ctx context.Context) (*Artifact, error) {
	return s.get(ctx, s.ref.Image.String())
}

// GetDigest finds the image whose image ID is h: the daemon keeps every
// image by ID until it is removed, tagged or not, so the base of a wrap
// made in the daemon is found even after its tag has moved on.
func (s *inDaemonStore) GetDigest(ctx context.Context, h v1.Hash) (*Artifact, error) {
	a, err := s.get(ctx, h.String())
	if err != nil {
		return nil, err
	}
	if d, _ := a.Digest(); d != h {
		return nil, fmt.Errorf("the Docker daemon has no image with ID %s: %w", h, ErrNotFound)
	}
	return a, nil
}

func (s *inDaemonStore) get(ctx context.Context, ref string) (*Artifact, error) {
	cli, err := s.client()
	if err != nil {
		return nil, err
	}
	doing := fmt.Sprintf("reading %s in the Docker daemon", ref)
	var raw bytes.Buffer
	_, err = cli.ImageInspect(ctx, ref, client.ImageInspectWithRawResponse(&raw))
	if client.IsErrNotFound(err) {
		return nil, fmt.Errorf("%s: the daemon at %s has no image %s (list them with `docker images`): %w", doing, cli.DaemonHost(), ref, ErrNotFound)
	}
	if err != nil {
		return nil, s.dockerErr(doing, err)
	}
	var info inspected
	if err := json.Unmarshal(raw.Bytes(), &info); err != nil {
		return nil, fmt.Errorf("%s: decoding the daemon's answer: %w", doing, err)
	}
	// The history of the image inspected, by ID: a tag may move meanwhile.
	hist, err := cli.ImageHistory(ctx, info.ID)
	if err != nil {
		return nil, s.dockerErr(doing, err)
	}
	img, err := newDaemonImage(info, hist)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", doing, err, ErrNotInDaemon)
	}
	img.files = func(label string) *daemonFiles {
		f := &daemonFiles{cli: cli, image: img.id.String(), label: label}
		s.files = append(s.files, f)
		return f
	}
	return &Artifact{Image: img, Origin: s.ref}, nil
}

// Put writes a under the reference's tag. An image the daemon already
// holds (unwrap: the base) is tagged; any other is loaded with only its
// layers that are not the daemon's own (those of an image read from it).
func (s *inDaemonStore) Put(ctx context.Context, a *Artifact, keep ...*Artifact) error {
	tag, img, cli, err := s.putTarget(a)
	if err != nil {
		return err
	}
	target := daemonName(tag)
	if di, ok := img.(*daemonImage); ok {
		if err := cli.ImageTag(ctx, di.id.String(), target); err != nil {
			return s.dockerErr(fmt.Sprintf("tagging %s as %s", di.id, target), err)
		}
		return nil
	}
	doing := fmt.Sprintf("loading %s into the Docker daemon", tag)
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	id := configID(rawCfg)
	werr, lerr := s.loadStream(ctx, cli, doing, func(w io.Writer) error { return writeThinArchive(w, target, img, rawCfg, id) })
	if werr != nil {
		return werr
	}
	if lerr != nil {
		return s.dockerErr(doing, fmt.Errorf("%w (the archive leaves out the layers of the image read from this daemon: check that it still holds that image with `docker image inspect`)", lerr))
	}
	// docker load answers with the image ID it made; check the tag names it.
	got, err := cli.ImageInspect(ctx, target)
	if err != nil {
		return s.dockerErr(doing, err)
	}
	if got.ID != id.String() {
		return fmt.Errorf("%s: the daemon tagged %s, not the image loaded (%s)", doing, got.ID, id)
	}
	return nil
}

// DigestOf is what Digest of a reads back as once written here: the image
// ID of its (single) image.
func (s *inDaemonStore) DigestOf(a *Artifact) (v1.Hash, error) {
	img, err := singleImage(a)
	if err != nil {
		return v1.Hash{}, err
	}
	if di, ok := img.(*daemonImage); ok {
		return di.id, nil
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		return v1.Hash{}, err
	}
	return configID(raw), nil
}

// DigestIn is the digest a has once written to dst: its manifest digest,
// or for a store that names images otherwise (the Docker daemon's image
// ID, in-daemon mode) that name.
func DigestIn(dst Store, a *Artifact) (v1.Hash, error) {
	if d, ok := dst.(interface {
		DigestOf(*Artifact) (v1.Hash, error)
	}); ok {
		return d.DigestOf(a)
	}
	return a.Digest()
}

func configID(raw []byte) v1.Hash {
	sum := sha256.Sum256(raw)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// writeThinArchive writes a `docker save` archive of img that leaves out
// the layers read from the daemon: docker load finds them by chain ID and
// never opens their files.
func writeThinArchive(w io.Writer, tag string, img v1.Image, rawCfg []byte, id v1.Hash) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	mtime := time.Unix(0, 0)
	add := func(name string, size int64, r io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: mtime, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		n, err := io.Copy(tw, r)
		if err == nil && n != size {
			err = fmt.Errorf("%s: %d bytes, expected %d", name, n, size)
		}
		return err
	}
	cfgName := id.Hex + ".json"
	if err := add(cfgName, int64(len(rawCfg)), bytes.NewReader(rawCfg)); err != nil {
		return err
	}
	var files []string
	for _, l := range layers {
		d, err := l.DiffID()
		if err != nil {
			return err
		}
		file := d.Hex + "/layer.tar"
		files = append(files, file)
		if _, ours := l.(*daemonLayer); ours {
			continue
		}
		if err := addLayer(tw, file, l, mtime); err != nil {
			return fmt.Errorf("layer %s: %w", d, err)
		}
	}
	m, err := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{tag}, "Layers": files}})
	if err != nil {
		return err
	}
	if err := add("manifest.json", int64(len(m)), bytes.NewReader(m)); err != nil {
		return err
	}
	return tw.Close()
}

// addLayer writes l's uncompressed bytes (a tar entry needs the size first:
// the uncompressed stream is read twice, the layer's own cache makes that
// cheap for jbuild's small layers).
func addLayer(tw *tar.Writer, file string, l v1.Layer, mtime time.Time) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, rc)
	rc.Close()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: file, Mode: 0o644, Size: n, ModTime: mtime, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	rc, err = l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	m, err := io.Copy(tw, rc)
	if err == nil && m != n {
		err = fmt.Errorf("read %d bytes, then %d", n, m)
	}
	return err
}

// inspected is the part of ImageInspect's answer a config is rebuilt from;
// Config is decoded as the daemon sends it (Docker's container config,
// whose field names ggcr's v1.Config shares).
type inspected struct {
	ID            string    `json:"Id"`
	Created       string    `json:"Created"`
	Container     string    `json:"Container"`
	DockerVersion string    `json:"DockerVersion"`
	Author        string    `json:"Author"`
	Config        v1.Config `json:"Config"`
	Architecture  string    `json:"Architecture"`
	Variant       string    `json:"Variant"`
	Os            string    `json:"Os"`
	OsVersion     string    `json:"OsVersion"`
	RootFS        struct {
		Type   string   `json:"Type"`
		Layers []string `json:"Layers"`
	} `json:"RootFS"`
}

// emptyTarDiffID is the diff ID of a layer that changes nothing (two zero
// blocks), what a RUN that writes nothing gives in the classic builder.
const emptyTarDiffID = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
