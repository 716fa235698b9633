package templates

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// UnreadLayers are the layers of an image planning need not read for the
// profile forced, else for any built-in one (buildplan.UnreadLayers with
// the profiles' install dirs): a Dockerfile's COPY into /app cannot change
// what planning looks at. `jbuild wrap` leaves a CI build's new layer
// unread by it, and the frontend plans from the Dockerfile's base image,
// read while the build runs, when every layer the build added is unread.
func UnreadLayers(history []ocispec.History, layers int, workdir string, forced *buildplan.Profile) map[int]string {
	var dirs []string
	if forced != nil {
		dirs = append(dirs, forced.InstallDir)
	} else if ps, err := Profiles(); err == nil {
		for _, p := range ps {
			dirs = append(dirs, p.InstallDir)
		}
	}
	return buildplan.UnreadLayers(history, layers, workdir, buildplan.ReadRoots(dirs))
}
