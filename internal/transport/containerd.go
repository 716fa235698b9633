package transport

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	digest "github.com/opencontainers/go-digest"
)

// KindContainerd is an image in containerd (containerd:NAME[:TAG]); the
// namespace and socket come from Options.Containerd.
const KindContainerd Kind = "containerd"

var containerdKind = storeKind{
	KindInfo: KindInfo{
		Kind: KindContainerd, Form: "containerd:NAME[:TAG]", Help: "an image in containerd (--containerd-address, --containerd-namespace)",
		Examples: []string{"containerd:myapp:1.2", "containerd:registry.example.com/shop/api@sha256:" + strings.Repeat("a", 64)},
	},
	refs: daemonRefs{},
	open: func(r Ref, opts Options) (Store, error) {
		return &containerdStore{ref: r, opts: opts.Containerd.withDefaults()}, nil
	},
}

// Defaults of ContainerdOptions.
const (
	DefaultContainerdAddress     = "/run/containerd/containerd.sock"
	DefaultContainerdNamespace   = "k8s.io" // where kubelet (CRI) keeps its images
	DefaultContainerdSnapshotter = "overlayfs"
)

// ContainerdOptions configure containerd access (containerd: references).
type ContainerdOptions struct {
	// Address is containerd's socket (default DefaultContainerdAddress).
	Address string
	// Namespace holds the images (default DefaultContainerdNamespace).
	Namespace string
	// Snapshotter a written image is unpacked for, so it runs at once
	// (default DefaultContainerdSnapshotter).
	Snapshotter string
}

func (o ContainerdOptions) withDefaults() ContainerdOptions {
	if o.Address == "" {
		o.Address = DefaultContainerdAddress
	}
	if o.Namespace == "" {
		o.Namespace = DefaultContainerdNamespace
	}
	if o.Snapshotter == "" {
		o.Snapshotter = DefaultContainerdSnapshotter
	}
	return o
}

// containerdStore is an image in containerd (`containerd:NAME[:TAG]`),
// through the containerd v2 client (which also talks to containerd 1.6 and
// 1.7). Images are named by their full reference (myapp:1.2 is
// docker.io/library/myapp:1.2, as kubelet and nerdctl name them).
//
// Reads come lazily from the content store. A write puts the blobs that
// are missing into the content store (under a lease, so garbage collection
// cannot take them half way), labels each manifest with its children as
// containerd's own import does, unpacks the image for the snapshotter,
// and creates or moves the name last. Kept artifacts (the base of a
// wrapped image) are written by digest without a name and referenced from
// the written manifest's labels, so they live as long as it does and
// GetDigest finds them.
//
// A multi-platform index whose content is only partly present (kubelet
// pulls one platform) is read as the image of this machine's platform.
type containerdStore struct {
	ref  Ref
	opts ContainerdOptions
	cli  *containerd.Client
	// lent is set once an artifact reading from cli was handed out: the
	// wrap engine may use an artifact after closing its store (a base found
	// through its name), so Close then leaves the connection to the end
	// of the process.
	lent bool
}

var _ Store = (*containerdStore)(nil)

func (s *containerdStore) Ref() Ref { return s.ref }

func (s *containerdStore) Close() error {
	if s.cli == nil || s.lent {
		return nil
	}
	err := s.cli.Close()
	s.cli = nil
	return err
}

// connect returns the client and a context in the store's namespace.
func (s *containerdStore) connect(ctx context.Context) (*containerd.Client, context.Context, error) {
	ctx = namespaces.WithNamespace(ctx, s.opts.Namespace)
	if s.cli != nil {
		return s.cli, ctx, nil
	}
	addr := strings.TrimPrefix(s.opts.Address, "unix://")
	if strings.HasPrefix(addr, "/") {
		if _, err := os.Stat(addr); err != nil {
			return nil, nil, s.downErr(err)
		}
	}
	cli, err := containerd.New(addr, containerd.WithDefaultNamespace(s.opts.Namespace), containerd.WithTimeout(5*time.Second))
	if err != nil {
		return nil, nil, s.downErr(err)
	}
	s.cli = cli
	return cli, ctx, nil
}

func (s *containerdStore) downErr(err error) error {
	return fmt.Errorf("cannot connect to containerd at %s: is containerd running? start it or pass --containerd-address: %w", s.opts.Address, err)
}

// callErr explains a failed containerd call.
func (s *containerdStore) callErr(doing string, err error) error {
	if errdefs.IsUnavailable(err) {
		return fmt.Errorf("%s: %w", doing, s.downErr(err))
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// imageName is the name containerd knows the image by.
func (s *containerdStore) imageName() string { return daemonName(s.ref.Image) }

func (s *containerdStore) Get(ctx context.Context) (*Artifact, error) {
	cli, ctx, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	nm := s.imageName()
	doing := fmt.Sprintf("reading %s from containerd namespace %s", nm, s.opts.Namespace)
	img, err := cli.ImageService().Get(ctx, nm)
	if errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("%s: %w", doing, s.notFound(ctx, cli, nm))
	}
	if err != nil {
		return nil, s.callErr(doing, err)
	}
	c := &contentReader{ctx: ctx, cs: cli.ContentStore()}
	desc, err := c.present(img.Target)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	a, err := c.artifact(desc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", doing, err)
	}
	a.Origin = s.ref
	s.lent = true
	return a, nil
}

// notFound explains a missing image: the namespace does not exist, or the
// image is in another namespace, or it is nowhere.
func (s *containerdStore) notFound(ctx context.Context, cli *containerd.Client, nm string) error {
	nss, err := cli.NamespaceService().List(ctx)
	if err != nil {
		return fmt.Errorf("no image %s (list them with `ctr -n %s images ls`): %w", nm, s.opts.Namespace, ErrNotFound)
	}
	sort := slices.Sorted(slices.Values(nss))
	if !slices.Contains(nss, s.opts.Namespace) {
		return fmt.Errorf("containerd at %s has no namespace %q (namespaces: %s): pass --containerd-namespace: %w", s.opts.Address, s.opts.Namespace, strings.Join(sort, ", "), ErrNotFound)
	}
	var in []string
	for _, ns := range sort {
		if ns == s.opts.Namespace {
			continue
		}
		if _, err := cli.ImageService().Get(namespaces.WithNamespace(ctx, ns), nm); err == nil {
			in = append(in, ns)
		}
	}
	if len(in) > 0 {
		return fmt.Errorf("no image %s in namespace %s, but namespace %s has it: pass --containerd-namespace %s: %w", nm, s.opts.Namespace, strings.Join(in, ", "), in[0], ErrNotFound)
	}
	return fmt.Errorf("no image %s in namespace %s (list them with `ctr -n %s images ls`; namespaces: %s): %w", nm, s.opts.Namespace, s.opts.Namespace, strings.Join(sort, ", "), ErrNotFound)
}

// GetDigest reads a manifest or index from the content store by digest:
// the base kept by Put, or any image containerd holds.
func (s *containerdStore) GetDigest(ctx context.Context, h v1.Hash) (*Artifact, error) {
	cli, ctx, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	c := &contentReader{ctx: ctx, cs: cli.ContentStore()}
	a, err := c.artifactByDigest(digest.Digest(h.String()))
	if errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("containerd namespace %s has no manifest %s: %w", s.opts.Namespace, h, ErrNotFound)
	}
	if err != nil {
		return nil, s.callErr(fmt.Sprintf("reading %s from containerd namespace %s", h, s.opts.Namespace), err)
	}
	a.Origin = s.ref
	s.lent = true
	return a, nil
}

// Put writes a (and keep, by digest) into the content store, unpacks it
// and moves the name last.
func (s *containerdStore) Put(ctx context.Context, a *Artifact, keep ...*Artifact) error {
	if _, ok := s.ref.Image.(name.Tag); !ok {
		return fmt.Errorf("writing %s: a containerd target needs a tag, not a digest: write containerd:NAME:TAG", s.ref)
	}
	cli, ctx, err := s.connect(ctx)
	if err != nil {
		return err
	}
	nm := s.imageName()
	doing := fmt.Sprintf("importing %s into containerd namespace %s", nm, s.opts.Namespace)
	// The lease protects everything written until the name refers to it.
	ctx, done, err := cli.WithLease(ctx)
	if err != nil {
		return s.callErr(doing, err)
	}
	defer done(context.WithoutCancel(ctx))
	w := &contentWriter{ctx: ctx, cs: cli.ContentStore()}
	extra := map[string]string{}
	for i, k := range keep {
		d, err := w.write(k, nil)
		if err != nil {
			return fmt.Errorf("%s: keeping the base: %w", doing, err)
		}
		extra[fmt.Sprintf("containerd.io/gc.ref.content.jbuild.kept.%d", i)] = d.Digest.String()
	}
	target, err := w.write(a, extra)
	if err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	img := images.Image{Name: nm, Target: target}
	if err := s.unpack(ctx, cli, img); err != nil {
		return fmt.Errorf("%s: unpacking for snapshotter %s: %w", doing, s.opts.Snapshotter, err)
	}
	is := cli.ImageService()
	if _, err := is.Create(ctx, img); errdefs.IsAlreadyExists(err) {
		_, err = is.Update(ctx, img, "target")
		if err != nil {
			return s.callErr(doing, err)
		}
	} else if err != nil {
		return s.callErr(doing, err)
	}
	return nil
}

// unpack unpacks img for the store's snapshotter when it has this
// machine's platform (an image for another platform cannot run here).
func (s *containerdStore) unpack(ctx context.Context, cli *containerd.Client, img images.Image) error {
	plat := platforms.Default()
	if _, err := images.Manifest(ctx, cli.ContentStore(), img.Target, plat); errdefs.IsNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	return containerd.NewImageWithPlatform(cli, img, plat).Unpack(ctx, s.opts.Snapshotter)
}
