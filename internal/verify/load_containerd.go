package verify

import (
	"context"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/jbuild-dev/jbuild/internal/transport"
)

// removeContainerd deletes the temporary image; failures only leave a name.
func removeContainerd(stores transport.Options, name string) {
	addr, ns := stores.Containerd.Address, stores.Containerd.Namespace
	if addr == "" {
		addr = transport.DefaultContainerdAddress
	}
	if ns == "" {
		ns = transport.DefaultContainerdNamespace
	}
	c, err := containerd.New(addr)
	if err != nil {
		return
	}
	defer c.Close()
	c.ImageService().Delete(namespaces.WithNamespace(context.Background(), ns), name)
}
