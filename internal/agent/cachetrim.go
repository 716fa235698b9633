package agent

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
var cacheDirs = []string{"downloads", "agent-tars", "file-sums"}

// staleTempAge is how old a temporary file must be before a run removes
// it as left over by a killed run. A live writer moves its file's
// modification time with every write, and a download that gets no byte
// for IdleTimeout gives up, so an hour without a write is a dead run.
const staleTempAge = time.Hour

// tempRE matches createTemp's names (os.CreateTemp puts digits for "*").
var tempRE = regexp.MustCompile(`\.tmp-[0-9]+$`)

// removeStaleTemps removes temporary files that a killed run left behind
// (a SIGKILL while unpacking leaves a temp file as large as the agent);
// fresh ones may be a concurrent run's and stay. Best effort.
func removeStaleTemps(opts Options) {
	old := time.Now().Add(-staleTempAge)
	for _, sub := range cacheDirs {
		dir := filepath.Join(opts.CacheDir, sub)
		des, _ := os.ReadDir(dir)
		for _, de := range des {
			if !de.Type().IsRegular() || !tempRE.MatchString(de.Name()) {
				continue
			}
			if fi, err := de.Info(); err == nil && fi.ModTime().Before(old) {
				os.Remove(filepath.Join(dir, de.Name()))
			}
		}
	}
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
	var entries []agentlayer.CacheEntry
	for _, sub := range cacheDirs {
		dir := filepath.Join(opts.CacheDir, sub)
		des, _ := os.ReadDir(dir)
		for _, de := range des {
			// A temporary file is being written (or is left over, which
			// removeStaleTemps handles): not an entry.
			if !de.Type().IsRegular() || tempRE.MatchString(de.Name()) {
				continue
			}
			fi, err := de.Info()
			if err != nil {
				continue
			}
			p := filepath.Join(dir, de.Name())
			entries = append(entries, agentlayer.CacheEntry{Files: []string{p}, Used: fi.ModTime(), Size: fi.Size(), Keep: slices.Contains(keep, p)})
		}
	}
	agentlayer.TrimLRU(entries, opts.CacheMax)
}

// touch marks a cache file as used now, so trimming keeps it longest.
// Best effort: a read-only shared cache just loses the ordering.
func touch(name string) {
	now := time.Now()
	os.Chtimes(name, now, now)
}
