package k8scluster

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// CRINamespace is the containerd namespace of the CRI plugin: images
// imported there are the kubelet's.
const CRINamespace = "k8s.io"

// Images the cluster starts with, built here (no public registry is
// reachable). MetricsServerImage is the name k3s's own metrics-server
// manifest gives with --system-default-registry=jbuild.test.
const (
	PauseImage         = "jbuild.test/pause:1"
	MetricsServerImage = "jbuild.test/rancher/mirrored-metrics-server:" + MetricsServerVersion
)

var imageTime = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

// binaryImage is one static binary at /name as the image's entrypoint,
// running as user (numeric, so runAsNonRoot can check it; "" for root),
// with a /tmp.
func binaryImage(bin, name, user string) (v1.Image, error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777},
		{Name: name, Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(data))},
	} {
		h.ModTime = imageTime
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithCompressedCaching, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: runtime.GOARCH, OS: "linux", Created: v1.Time{Time: imageTime},
		Config: v1.Config{Entrypoint: []string{"/" + name}, User: user},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	return mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{Created: v1.Time{Time: imageTime}, CreatedBy: "k8scluster: /" + name}})
}

// pauseImage builds the pause program (./pause, static) and its image.
func pauseImage(dir string) (v1.Image, error) {
	bin := filepath.Join(dir, "pause")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./internal/testing/k8scluster/pause")
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the pause program: %v: %s", err, out)
	}
	return binaryImage(bin, "pause", "65535")
}

// metricsServerImage is metrics-server (MetricsServerBinary) as an image.
func metricsServerImage() (v1.Image, error) {
	bin, err := MetricsServerBinary()
	if err != nil {
		return nil, err
	}
	return binaryImage(bin, "metrics-server", "1000")
}

// importImage imports img into the containerd at sock, namespace k8s.io,
// as ref: an OCI archive whose index names the image
// (io.containerd.image.name), as `ctr -n k8s.io images import` reads it,
// then unpacked for overlayfs, so the kubelet finds it present and never
// pulls (imagePullPolicy IfNotPresent, the default for a tag).
func importImage(ctx context.Context, sock, ref string, img v1.Image) error {
	cli, err := containerd.New(sock, containerd.WithDefaultNamespace(CRINamespace))
	if err != nil {
		return fmt.Errorf("importing %s: %w", ref, err)
	}
	defer cli.Close()
	ctx = namespaces.WithNamespace(ctx, CRINamespace)
	dir, err := os.MkdirTemp("", "jbuild-k8s-import-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{"io.containerd.image.name": ref})); err != nil {
		return fmt.Errorf("importing %s: %w", ref, err)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(testenv.TarDir(dir, pw)) }()
	defer pr.Close()
	imgs, err := cli.Import(ctx, pr)
	if err != nil {
		return fmt.Errorf("importing %s into the cluster's containerd: %w", ref, err)
	}
	if len(imgs) != 1 || imgs[0].Name != ref {
		return fmt.Errorf("importing %s into the cluster's containerd: got images %+v", ref, imgs)
	}
	if err := containerd.NewImage(cli, imgs[0]).Unpack(ctx, "overlayfs"); err != nil {
		return fmt.Errorf("unpacking %s: %w", ref, err)
	}
	return nil
}

// Import imports img into the cluster's containerd as ref (a full name:
// jbuild.test/app:1, 127.0.0.1:5000/shop/app:1-jennifer): pods naming ref
// with a tag then start without a pull.
func (c *Cluster) Import(ctx context.Context, ref string, img v1.Image) error {
	return importImage(ctx, c.containerdSock(), ref, img)
}
