package frontend

import (
	"path"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/templates"
)

// prefetchInstallDirs stats, in the background, the folders above every
// install dir a profile may choose (the known one's: forced by the user or
// named by the agent; else the built-in ones'), while the agent is still
// loading. Planning looks at those folders
// to keep the base's own (see buildplan's installParents), and each stat is
// a round trip to buildkitd; the refFS remembers the answers, so planning
// then reads them from memory. A stat that fails here is simply asked
// again by planning, which reports it.
func prefetchInstallDirs(fsys *refFS, known *buildplan.Profile) {
	var dirs []string
	if known != nil {
		dirs = append(dirs, known.InstallDir)
	} else if ps, err := templates.Profiles(); err == nil {
		for _, p := range ps {
			dirs = append(dirs, p.InstallDir)
		}
	}
	seen := map[string]bool{}
	for _, d := range dirs {
		for p := d; p != "/" && p != "."; p = path.Dir(p) {
			if !seen[p] {
				seen[p] = true
				go fsys.lstat(p)
			}
		}
	}
}
