package frontend

import (
	"io/fs"
	"path"
	"sync"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/templates"
)

// prefetchInstallDirs stats, in the background, the folders above every
// install dir a profile may choose (the known one's: forced by the user or
// named by an agent that has loaded; else every built-in one's). Planning
// looks at those folders to keep the base's own (see buildplan's
// installParents), and each stat is a round trip to buildkitd; the refFS
// remembers the answers, so planning then reads them from memory. A stat
// that fails here is simply asked again by planning, which reports it.
//
// It walks down from the root and asks for a folder's children only once
// the folder is known to exist: on most bases /opt has no jennifer folder,
// so the read-ahead costs a stat of /opt and of its few candidate children
// (four round trips for every built-in profile), and it need not wait for
// the agent to know which profile planning takes. Waiting for it put the
// agent's resolution and the stats one after the other on the build's path
// (bench -profile: the final solve 5-10 ms later). The returned wait is for
// tests: callers go on at once.
func prefetchInstallDirs(fsys *refFS, known *buildplan.Profile) (wait func()) {
	var dirs []string
	if known != nil {
		dirs = append(dirs, known.InstallDir)
	} else if ps, err := templates.Profiles(); err == nil {
		for _, p := range ps {
			dirs = append(dirs, p.InstallDir)
		}
	}
	children := map[string][]string{}
	seen := map[string]bool{}
	for _, d := range dirs {
		for p := path.Clean(d); p != "/" && p != "."; p = path.Dir(p) {
			if seen[p] {
				break
			}
			seen[p] = true
			children[path.Dir(p)] = append(children[path.Dir(p)], p)
		}
	}
	var wg sync.WaitGroup
	var visit func(p string)
	visit = func(p string) {
		defer wg.Done()
		st, err := fsys.lstat(p)
		if err != nil || !fs.FileMode(st.Mode).IsDir() {
			return // absent, a file or a symlink: planning asks for what it needs
		}
		wg.Add(len(children[p]))
		for _, c := range children[p] {
			go visit(c)
		}
	}
	wg.Add(len(children["/"]))
	for _, c := range children["/"] {
		go visit(c)
	}
	return wg.Wait
}
