package verify

import (
	"context"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
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
	// Profile is the agent's profile (verify --profile); nil: the one the
	// image carries or names.
	Profile *buildplan.Profile
}

// Run starts the image the way a restricted pod runs it (its own non-root
// user, read-only root filesystem, an empty writable mount for each
// directory in io.jbuild.volumes), with the agent pointed at a throw-away
// receiver on 127.0.0.1 as the profile's run check says, and reports
// whether the agent reported there (connected, or sent an OTLP export or
// an HTTP request).
func Run(ctx context.Context, img v1.Image, o RunOptions) (*runcheck.Result, error) {
	opts := runcheck.Options{
		Profile:           o.Profile,
		Engine:            o.Engine,
		DockerHost:        o.DockerHost,
		ContainerdAddress: o.ContainerdAddress,
		Namespace:         o.Namespace,
		Image:             o.Image,
		ReadOnlyRoot:      true,
		WaitFor:           o.Wait,
	}
	// The image's numeric user, its io.jbuild.volumes and its agent config
	// pointed at a new loopback listener.
	if err := runcheck.Prepare(img, &opts); err != nil {
		return nil, err
	}
	return runcheck.Run(ctx, opts)
}
