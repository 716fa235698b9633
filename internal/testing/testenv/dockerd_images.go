package testenv

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// DockerClient connects to the daemon at dockerHost ("unix:///..."), with
// API version negotiation; it is closed when the test ends.
func DockerClient(t testing.TB, dockerHost string) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.WithHost(dockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// LoadImage loads img into the Docker daemon at dockerHost as ref
// ("myapp:1"), the way `docker load` does, independently of jbuild's
// docker-daemon store.
func LoadImage(t testing.TB, dockerHost, ref string, img v1.Image) {
	t.Helper()
	if err := loadImage(context.Background(), DockerClient(t, dockerHost), ref, img); err != nil {
		t.Fatalf("loading %s into the Docker daemon at %s: %v", ref, dockerHost, err)
	}
}

func loadImage(ctx context.Context, cli *client.Client, ref string, img v1.Image) error {
	tag, err := name.NewTag(ref, name.WeakValidation)
	if err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarball.Write(tag, img, pw)) }()
	defer pr.Close()
	resp, err := cli.ImageLoad(ctx, pr, client.ImageLoadWithQuiet(true))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return jsonmessage.DisplayJSONMessagesStream(resp.Body, io.Discard, 0, false, nil)
}

// ContainerdClient connects to the containerd at addr (a socket path) in
// namespace ns; it is closed when the test ends.
func ContainerdClient(t testing.TB, addr, ns string) *containerd.Client {
	t.Helper()
	cli, err := containerd.New(addr, containerd.WithDefaultNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// ImportContainerd imports img into containerd at addr, namespace ns, as
// ref (a full name, docker.io/library/app:1), the way `ctr images import`
// does: an OCI archive whose index names the image with the
// io.containerd.image.name annotation, then an unpack for overlayfs. It
// does not use jbuild's containerd store.
func ImportContainerd(t testing.TB, addr, ns, ref string, img v1.Image) {
	t.Helper()
	ctx := namespaces.WithNamespace(context.Background(), ns)
	cli := ContainerdClient(t, addr, ns)
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"io.containerd.image.name": ref})); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(TarDir(dir, pw)) }()
	defer pr.Close()
	imgs, err := cli.Import(ctx, pr)
	if err != nil {
		t.Fatalf("importing %s into containerd %s (namespace %s): %v", ref, addr, ns, err)
	}
	if len(imgs) != 1 || imgs[0].Name != ref {
		t.Fatalf("importing %s into containerd: got images %+v", ref, imgs)
	}
	if err := containerd.NewImage(cli, imgs[0]).Unpack(ctx, "overlayfs"); err != nil {
		t.Fatalf("unpacking %s: %v", ref, err)
	}
}

// TarDir writes the regular files below dir as a tar (an OCI layout as an
// oci-archive, for `docker load` or containerd's import).
func TarDir(dir string, w io.Writer) error {
	tw := tar.NewWriter(w)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		st, err := d.Info()
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: st.Size(), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return fmt.Errorf("archiving %s: %w", dir, err)
	}
	return tw.Close()
}
