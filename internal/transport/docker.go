package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// KindDockerDaemon is an image in a Docker daemon (docker-daemon:NAME[:TAG]).
const KindDockerDaemon Kind = "docker-daemon"

var dockerKind = storeKind{
	KindInfo: KindInfo{
		Kind: KindDockerDaemon, Form: "docker-daemon:NAME[:TAG]", Help: "an image in the Docker daemon (DOCKER_HOST)",
		Examples: []string{"docker-daemon:myapp:1.2", "docker-daemon:registry.example.com/shop/api:1.2-jennifer"},
	},
	refs: daemonRefs{},
	open: func(r Ref, opts Options) (Store, error) { return &dockerStore{ref: r, opts: opts.Docker}, nil },
}

// DockerOptions configure Docker daemon access (docker-daemon: references).
type DockerOptions struct {
	// Host is the daemon address ("unix:///var/run/docker.sock",
	// "tcp://host:2376"); empty means the environment, as the docker CLI
	// reads it (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH,
	// DOCKER_API_VERSION).
	Host string
}

// dockerStore is an image in a Docker daemon (`docker-daemon:NAME[:TAG]`),
// read with `docker save` and written with `docker load` through the Engine
// API, so no registry is involved. The API version is negotiated, which
// covers dockerd 20.10 (API 1.41) and later.
//
// What the daemon keeps is not a registry manifest: it stores an image as
// its config (the image ID is the config digest) and uncompressed layers.
// An image read back is recompressed by jbuild, so its manifest digest is
// stable for the same image but is not the digest of the manifest that was
// loaded; compare images in a daemon by config digest (image ID). For the
// same reason the daemon has no place for images kept by digest: Put
// ignores keep, and GetDigest only finds the image the reference names.
type dockerStore struct {
	ref  Ref
	opts DockerOptions

	cli *client.Client
}

var _ Store = (*dockerStore)(nil)

func (s *dockerStore) Ref() Ref { return s.ref }

// Close closes the API client; images already read stay readable.
func (s *dockerStore) Close() error {
	if s.cli == nil {
		return nil
	}
	err := s.cli.Close()
	s.cli = nil
	return err
}

// client connects on first use (creating a client does not dial).
func (s *dockerStore) client() (*client.Client, error) {
	if s.cli != nil {
		return s.cli, nil
	}
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if s.opts.Host != "" {
		opts = append(opts, client.WithHost(s.opts.Host))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client for %s: %w", s.ref, err)
	}
	s.cli = cli
	return cli, nil
}

// dockerErr explains a failed daemon call: the daemon is not reachable, or
// what was being done.
func (s *dockerStore) dockerErr(doing string, err error) error {
	if client.IsErrConnectionFailed(err) {
		host := "the default socket"
		if s.cli != nil {
			host = s.cli.DaemonHost()
		}
		return fmt.Errorf("%s: cannot connect to the Docker daemon at %s: is dockerd running? start it or set DOCKER_HOST: %w", doing, host, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

func (s *dockerStore) Get(ctx context.Context) (*Artifact, error) {
	cli, err := s.client()
	if err != nil {
		return nil, err
	}
	ref := s.ref.Image.String()
	doing := fmt.Sprintf("reading %s from the Docker daemon", ref)
	// Inspect first: a clean not-found, and saving by ID reads exactly
	// the image inspected even if the tag moves meanwhile.
	info, err := cli.ImageInspect(ctx, ref)
	if client.IsErrNotFound(err) {
		return nil, fmt.Errorf("%s: the daemon at %s has no image %s (list them with `docker images`): %w", doing, cli.DaemonHost(), ref, ErrNotFound)
	}
	if err != nil {
		return nil, s.dockerErr(doing, err)
	}
	return s.getID(ctx, cli, info.ID)
}

// getID reads the image with ID id (docker save).
func (s *dockerStore) getID(ctx context.Context, cli *client.Client, id string) (*Artifact, error) {
	doing := fmt.Sprintf("reading %s from the Docker daemon", id)
	opener, err := s.save(ctx, cli, id)
	if err != nil {
		return nil, s.dockerErr(doing, err)
	}
	img, err := tarball.Image(opener, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: reading the saved archive: %w", doing, err)
	}
	if err := checkLoadedConfig(doing, img); err != nil {
		return nil, err
	}
	return &Artifact{Image: img, Origin: s.ref}, nil
}

// save writes `docker save ID` to a temp file that is unlinked at once:
// the image reads it through the open file, so it lives exactly as long as
// the image does (an artifact may outlive its store: the wrap engine closes
// a store it opened to find a base before it uses the base), and nothing is
// left on disk whatever happens to the process.
func (s *dockerStore) save(ctx context.Context, cli *client.Client, id string) (tarball.Opener, error) {
	rc, err := cli.ImageSave(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	f, err := os.CreateTemp("", "jbuild-docker-save-*.tar")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	n, err := io.Copy(f, rc)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("docker save %s: %w", id, err)
	}
	// Readers share f through ReadAt, so they never close it; the file
	// is closed when the image is collected (os.File's finalizer).
	return func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(f, 0, n)), nil }, nil
}

// GetDigest returns the image the reference names when its digest is h:
// the daemon keeps nothing by manifest digest (see dockerStore), so the
// wrap engine finds a base through its name, whose tag must still point at
// the same image.
//
// A base recorded by a wrap made inside the daemon is its image ID (see
// inDaemonStore): that is found by ID, tag or not.
func (s *dockerStore) GetDigest(ctx context.Context, h v1.Hash) (*Artifact, error) {
	if cli, err := s.client(); err == nil {
		if info, err := cli.ImageInspect(ctx, h.String()); err == nil && info.ID == h.String() {
			return s.getID(ctx, cli, info.ID)
		}
	}
	a, err := s.Get(ctx)
	if err != nil {
		return nil, err
	}
	d, err := a.Digest()
	if err != nil {
		return nil, err
	}
	if d != h {
		return nil, fmt.Errorf("%s is %s, not %s, and the Docker daemon keeps no images by manifest digest (load or pull the original image under its tag again): %w", s.ref, d, h, ErrNotFound)
	}
	return a, nil
}

// Put loads a into the daemon under the reference's tag with `docker
// load`: the tag moves only when the daemon has the whole image (docker's
// own atomicity). keep is ignored: the daemon has no untagged store by
// manifest digest (see dockerStore).
func (s *dockerStore) Put(ctx context.Context, a *Artifact, keep ...*Artifact) error {
	tag, img, cli, err := s.putTarget(a)
	if err != nil {
		return err
	}
	// RepoTags as Docker spells them (docker.io/library/x:1 loads as x:1).
	loadTag, err := name.NewTag(daemonName(tag), name.WeakValidation)
	if err != nil {
		return fmt.Errorf("writing %s: %w", s.ref, err)
	}
	doing := fmt.Sprintf("loading %s into the Docker daemon", tag)
	werr, lerr := s.loadStream(ctx, cli, doing, func(w io.Writer) error { return tarball.Write(loadTag, img, w) })
	if werr != nil {
		return werr
	}
	if lerr != nil {
		return s.dockerErr(doing, lerr)
	}
	return nil
}

// putTarget checks what Put is given for this daemon: a tag to write, one
// image (a single-platform index gives its image), and the client.
func (s *dockerStore) putTarget(a *Artifact) (name.Tag, v1.Image, *client.Client, error) {
	tag, ok := s.ref.Image.(name.Tag)
	if !ok {
		return name.Tag{}, nil, nil, fmt.Errorf("writing %s: a Docker daemon target needs a tag, not a digest: write docker-daemon:NAME:TAG", s.ref)
	}
	img, err := singleImage(a)
	if err != nil {
		return name.Tag{}, nil, nil, fmt.Errorf("writing %s: the Docker daemon holds single-platform images: %w", s.ref, err)
	}
	cli, err := s.client()
	if err != nil {
		return name.Tag{}, nil, nil, err
	}
	return tag, img, cli, nil
}

// loadStream streams the archive write makes into `docker load` as it is
// written; a failed write truncates it, and docker refuses a truncated
// archive before touching the tag. writeErr is the writer's own failure
// (wrapped with doing), loadErr the load's.
func (s *dockerStore) loadStream(ctx context.Context, cli *client.Client, doing string, write func(io.Writer) error) (writeErr, loadErr error) {
	pr, pw := io.Pipe()
	written := make(chan error, 1)
	go func() {
		err := write(pw)
		pw.CloseWithError(err)
		written <- err
	}()
	loadErr = s.load(ctx, cli, pr)
	pr.CloseWithError(errLoadEnded) // unblocks the writer if docker stopped reading
	// The writer fails on its own (a layer cannot be read), or because
	// the reading side went away (errLoadEnded, io.ErrClosedPipe): then
	// the load error says why.
	if werr := <-written; werr != nil && !errors.Is(werr, errLoadEnded) && !errors.Is(werr, io.ErrClosedPipe) {
		return fmt.Errorf("%s: writing the archive: %w", doing, werr), loadErr
	}
	return nil, loadErr
}

var errLoadEnded = errors.New("docker load ended")

// load sends an archive to `docker load` and reads the daemon's answer,
// which reports failures inside the stream.
func (s *dockerStore) load(ctx context.Context, cli *client.Client, r io.Reader) error {
	resp, err := cli.ImageLoad(ctx, r, client.ImageLoadWithQuiet(true))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return jsonmessage.DisplayJSONMessagesStream(resp.Body, io.Discard, 0, false, nil)
}

// singleImage is a's image, or the one platform image of an index (wrap
// --platform on a multi-platform source); attestation manifests
// (platform unknown/unknown) do not count.
func singleImage(a *Artifact) (v1.Image, error) {
	if a.Index == nil {
		return a.Image, nil
	}
	im, err := a.Index.IndexManifest()
	if err != nil {
		return nil, err
	}
	var one []v1.Hash
	for _, m := range im.Manifests {
		if m.MediaType.IsImage() && (m.Platform == nil || m.Platform.OS != "unknown") {
			one = append(one, m.Digest)
		}
	}
	if len(one) != 1 {
		return nil, fmt.Errorf("this is a multi-platform index of %d images: select one with --platform (e.g. --platform linux/amd64), or write to a registry or an oci: layout", len(one))
	}
	return a.Index.Image(one[0])
}
