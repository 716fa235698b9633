package agent

import (
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/jbuild-dev/jbuild/internal/agentlayer"
)

// DefaultCacheMax bounds the agent cache (Options.CacheMax). The unpacked
// tar of a .tar.gz can be a thousand times its download (a 300 KB archive
// of padding unpacked to 300 MB), so the bound covers the tars and the
// downloads together: about ten agent versions of a few hundred MB.
const DefaultCacheMax = 2 << 30

// cacheDirs are the agent cache's own folders. CacheDir may hold other
// caches (the CLI keeps the layer cache in layers/ next to them), which
// bound themselves.
var cacheDirs = []string{"downloads", "agent-tars", "file-sums", singleFilesDir}

// tempRE matches createTemp's names (os.CreateTemp puts digits for "*").
var tempRE = regexp.MustCompile(`\.tmp-[0-9]+$`)

func isTemp(name string) bool { return tempRE.MatchString(name) }

// cachePaths are the agent cache's own folders in opts.CacheDir.
func cachePaths(opts Options) []string {
	out := make([]string, len(cacheDirs))
	for i, sub := range cacheDirs {
		out[i] = filepath.Join(opts.CacheDir, sub)
	}
	return out
}

// removeStaleTemps removes temporary files a killed run left behind (a
// SIGKILL while unpacking leaves a temp file as large as the agent). A
// download that gets no byte for IdleTimeout gives up, so a live one
// always writes within agentlayer.StaleTempAge.
func removeStaleTemps(opts Options) {
	agentlayer.RemoveStaleTemps(cachePaths(opts), isTemp)
}

// trimCache removes the least recently used files of the agent cache
// until it holds at most opts.CacheMax bytes, never the files keep (just
// written, about to be used). Each file is its own entry: a download, its
// URL record and its unpacked tar are all found by name and rebuilt when
// missing, so any one can go alone. Files this run used were touched and
// go last; one another process has open stays readable until closed.
func trimCache(opts Options, keep ...string) {
	if opts.CacheMax < 0 {
		return
	}
	agentlayer.TrimFiles(cachePaths(opts), opts.CacheMax, isTemp, keep...)
}

// touch marks a cache file as used now, so trimming keeps it longest.
// Best effort: a read-only shared cache just loses the ordering.
func touch(name string) {
	now := time.Now()
	os.Chtimes(name, now, now)
}
