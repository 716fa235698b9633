package verify

import (
	"context"
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/imagefs"
	"github.com/jbuild-dev/jbuild/internal/runcheck"
)

// RunOptions say where to run the image for `verify --run`.
type RunOptions struct {
	Engine            string // runcheck.EngineDocker or runcheck.EngineContainerd
	DockerHost        string
	ContainerdAddress string
	Namespace         string
	// Image is the name the engine knows the image by.
	Image string
	Wait  time.Duration
}

// Run starts the image the way a restricted pod runs it (its own non-root
// user, read-only root filesystem, an empty writable mount for each
// directory in io.jbuild.volumes), with the agent pointed at a throw-away
// data server on 127.0.0.1, and reports whether the agent connected.
func Run(ctx context.Context, img v1.Image, o RunOptions) (*runcheck.Result, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	labels := cf.Config.Labels
	var content []byte
	if p := labels[buildplan.LabelConfig]; p != "" {
		fsys := imagefs.New(img, o.Image, []string{p})
		if content, err = fsys.ReadFile(p, 1<<20); err != nil {
			return nil, fmt.Errorf("reading the agent config %s from %s: %w", p, o.Image, err)
		}
	}
	ln, err := runcheck.Listen()
	if err != nil {
		return nil, err
	}
	override, env, err := runcheck.ServerOverride(labels, content, "127.0.0.1", runcheck.Port(ln))
	if err != nil {
		ln.Close()
		return nil, err
	}
	var volumes []string
	if v := labels[buildplan.LabelVolumes]; v != "" {
		volumes = strings.Split(v, ",")
	}
	return runcheck.Run(ctx, runcheck.Options{
		Engine:            o.Engine,
		DockerHost:        o.DockerHost,
		ContainerdAddress: o.ContainerdAddress,
		Namespace:         o.Namespace,
		Image:             o.Image,
		ReadOnlyRoot:      true,
		Volumes:           volumes,
		Env:               env,
		Config:            override,
		Listener:          ln,
		WaitFor:           o.Wait,
	})
}
