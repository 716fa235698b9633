package verify

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/internal/runcheck"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// LoadForRun puts an image that lives elsewhere (a registry, a layout) into
// the engine under a temporary name for `verify --run`, and returns that
// name and a function that removes it again.
func LoadForRun(ctx context.Context, img v1.Image, engine string, stores transport.Options) (string, func(), error) {
	d, err := img.Digest()
	if err != nil {
		return "", nil, err
	}
	name := "jbuild-verify:" + d.Hex[:12]
	var refStr string
	switch engine {
	case runcheck.EngineDocker:
		refStr = "docker-daemon:" + name
	case runcheck.EngineContainerd:
		refStr = "containerd:" + name
	default:
		return "", nil, fmt.Errorf("--engine %q: use docker or containerd", engine)
	}
	ref, err := transport.Parse(refStr)
	if err != nil {
		return "", nil, err
	}
	st, err := transport.Open(ref, stores)
	if err != nil {
		return "", nil, err
	}
	if err := st.Put(ctx, &transport.Artifact{Image: img}); err != nil {
		st.Close()
		return "", nil, fmt.Errorf("loading the image for the run: %w", err)
	}
	st.Close()
	if engine == runcheck.EngineContainerd {
		return ref.Image.Name(), func() { removeContainerd(stores, ref.Image.Name()) }, nil
	}
	return name, func() { removeDocker(stores.Docker.Host, name) }, nil
}

// removeDocker deletes the temporary image; failures only leave a tag.
func removeDocker(host, name string) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	c, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return
	}
	defer c.Close()
	c.ImageRemove(context.Background(), name, image.RemoveOptions{PruneChildren: true})
}
