package main

// The daemon stores: containerd (k) and the memory figure of every store.
//
// One dockerd of its own (Debian's docker.io, started by testenv as root,
// everything under /tmp) and the containerd it starts serve both. Where
// they cannot be had (not root, not installed), the figures are n/a with
// the reason and the rest of the bench runs.
//
// k: the 500 MB image of scenario a imported into that containerd
// (namespace k8s.io, unpacked for overlayfs, as kubelet keeps images), then
// `jbuild wrap containerd:bench-big:1` with a new agent each run, against
// scenario a (the registry wrap of the same image, same run). Its content
// store is listed before and after each wrap: the blobs new to it, their
// number and bytes, show what moved (only new blobs should: the agent layer,
// the settings layer, the config and the manifest).

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

const (
	sContainerd = "k"
	ctrdNS      = "k8s.io"
	ctrdBig     = "docker.io/library/bench-big:1" // containerd:bench-big:1
)

type ctrdState struct {
	dockerHost string
	addr       string // containerd socket
	skipped    string // why there is no daemon ("" when there is)
	server     string // dockerd and containerd versions

	// Blobs new to the content store in the last k wrap, and their bytes.
	newBlobs  int
	newBytes  int64
	maxBlobs  int   // the most of any run
	maxBytes  int64 // the most of any run
	imageSize int64
}

// startDaemon starts dockerd and its containerd; on failure it records why
// and returns a no-op.
func (b *bench) startDaemon() (stop func()) {
	logf("starting dockerd and its containerd (testenv, trusting %s)", b.reg)
	host, addr, stop, err := testenv.StartDockerd(b.reg)
	if err != nil {
		b.ctrd.skipped = err.Error()
		logf("WARNING: containerd and docker-daemon figures skipped: %v", err)
		return func() {}
	}
	b.ctrd.dockerHost, b.ctrd.addr = host, addr
	if cli, err := client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation()); err == nil {
		if v, err := cli.ServerVersion(context.Background()); err == nil {
			b.ctrd.server = "dockerd " + v.Version
		}
		cli.Close()
	}
	if cli, err := containerd.New(addr); err == nil {
		if v, err := cli.Version(context.Background()); err == nil {
			b.ctrd.server += ", containerd " + v.Version
		}
		cli.Close()
	}
	return stop
}

func (b *bench) haveDaemon() bool { return b.ctrd.addr != "" }

// setupScenarios makes what the scenario groups need beyond the base
// images (not timed).
func (b *bench) setupScenarios() error {
	if b.haveJbuild && b.opts.wants(gMany) {
		if err := b.setupMany(); err != nil {
			return err
		}
	}
	if b.haveJbuild && b.opts.wants(gDaemon) {
		if err := b.setupDaemonScenario(); err != nil {
			return err
		}
	}
	if b.haveJbuild && b.opts.wants(gContainerd) && b.haveDaemon() {
		r, err := name.ParseReference(b.big, name.Insecure)
		if err != nil {
			return err
		}
		img, err := remote.Image(r)
		if err != nil {
			return err
		}
		if b.ctrd.imageSize, err = layersSize(img); err != nil {
			return err
		}
		logf("importing %s into containerd as %s", b.big, ctrdBig)
		archive := filepath.Join(b.tmp, "big-oci.tar")
		if err := writeOCIArchive(archive, img, map[string]string{"io.containerd.image.name": ctrdBig}); err != nil {
			return err
		}
		defer os.Remove(archive)
		if err := ctrdImport(b.ctrd.addr, ctrdBig, archive); err != nil {
			return err
		}
	}
	return nil
}

// containerdOnce runs k once: a new agent, the wrap, and the content store
// before and after.
func (b *bench) containerdOnce(i int, record func(string, time.Duration)) error {
	if !b.haveDaemon() {
		return nil
	}
	before, err := ctrdBlobs(b.ctrd.addr)
	if err != nil {
		return err
	}
	if err := b.agent.setNonce(fmt.Sprintf("k-%d", i)); err != nil {
		return err
	}
	d, err := b.timed(b.opts.jbuild, "wrap", "containerd:bench-big:1", "-t", "containerd:bench-big:1-jennifer",
		"--containerd-address", b.ctrd.addr, "--containerd-namespace", ctrdNS,
		"--agent", b.agent.dir, "--server-address", "127.0.0.1", "-q", "--force")
	if err != nil {
		return err
	}
	record(sContainerd, d)
	after, err := ctrdBlobs(b.ctrd.addr)
	if err != nil {
		return err
	}
	b.ctrd.newBlobs, b.ctrd.newBytes = 0, 0
	for dg, size := range after {
		if _, ok := before[dg]; !ok {
			b.ctrd.newBlobs++
			b.ctrd.newBytes += size
		}
	}
	b.ctrd.maxBlobs = max(b.ctrd.maxBlobs, b.ctrd.newBlobs)
	b.ctrd.maxBytes = max(b.ctrd.maxBytes, b.ctrd.newBytes)
	return nil
}

// onlyNewBlobs says whether the k wraps added at most the agent layer and
// a few small blobs to the content store: the agent's bytes plus 2 MiB
// (its tar headers and gzip framing, the settings layer, config and
// manifest), and 6 blobs.
func (b *bench) onlyNewBlobs() bool {
	return b.ctrd.maxBlobs <= 6 && b.ctrd.maxBytes <= int64(b.opts.agentMB)<<20+2<<20
}

func ctrdClient(addr string) (*containerd.Client, context.Context, error) {
	cli, err := containerd.New(addr, containerd.WithDefaultNamespace(ctrdNS))
	if err != nil {
		return nil, nil, err
	}
	return cli, namespaces.WithNamespace(context.Background(), ctrdNS), nil
}

// ctrdBlobs lists the content store: digest to size.
func ctrdBlobs(addr string) (map[string]int64, error) {
	cli, ctx, err := ctrdClient(addr)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	out := map[string]int64{}
	err = cli.ContentStore().Walk(ctx, func(info content.Info) error {
		out[info.Digest.String()] = info.Size
		return nil
	})
	return out, err
}

// ctrdImport imports the OCI archive into containerd as ref and unpacks it
// for overlayfs, as `ctr images import` does (not jbuild's store).
func ctrdImport(addr, ref, archive string) error {
	cli, ctx, err := ctrdClient(addr)
	if err != nil {
		return err
	}
	defer cli.Close()
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	imgs, err := cli.Import(ctx, f)
	if err != nil {
		return fmt.Errorf("importing %s into containerd: %w", ref, err)
	}
	for _, im := range imgs {
		if im.Name == ref {
			if err := containerd.NewImage(cli, im).Unpack(ctx, "overlayfs"); err != nil {
				return fmt.Errorf("unpacking %s: %w", ref, err)
			}
			return nil
		}
	}
	return fmt.Errorf("importing %s into containerd: got images %+v", ref, imgs)
}

// writeOCIArchive writes img as a tar of an OCI layout whose index names it
// with annotations.
func writeOCIArchive(path string, img v1.Image, annotations map[string]string) error {
	dir, err := os.MkdirTemp(filepath.Dir(path), ".layout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := writeLayout(dir, img, annotations); err != nil {
		return err
	}
	return tarDirTo(dir, path)
}

func writeLayout(dir string, img v1.Image, annotations map[string]string) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img, layout.WithAnnotations(annotations))
}

// tarDirTo writes the regular files below dir as the tar file path.
func tarDirTo(dir, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = testenv.TarDir(dir, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// dockerLoad loads a docker-archive file into the daemon, as `docker load`
// does (not jbuild's store).
func dockerLoad(dockerHost, archive string) error {
	cli, err := client.NewClientWithOpts(client.WithHost(dockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		return err
	}
	defer cli.Close()
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	resp, err := cli.ImageLoad(context.Background(), f, client.ImageLoadWithQuiet(true))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return jsonmessage.DisplayJSONMessagesStream(resp.Body, io.Discard, 0, false, nil)
}
