package agentlayer

import (
	"os"
	"path/filepath"
	"slices"
	"time"
)

// StaleTempAge is how old a temporary file must be before a run removes it
// as left over by a killed run. A live writer moves its file's
// modification time with every write, so an hour without a write is a
// dead run.
const StaleTempAge = time.Hour

// RemoveStaleTemps removes the files in dirs that isTemp recognises and
// that are older than StaleTempAge (a SIGKILL while writing leaves a temp
// file as large as what was written); fresh ones may be a concurrent run's
// and stay. Best effort.
func RemoveStaleTemps(dirs []string, isTemp func(name string) bool) {
	old := time.Now().Add(-StaleTempAge)
	for _, dir := range dirs {
		des, _ := os.ReadDir(dir)
		for _, de := range des {
			if !de.Type().IsRegular() || !isTemp(de.Name()) {
				continue
			}
			if fi, err := de.Info(); err == nil && fi.ModTime().Before(old) {
				os.Remove(filepath.Join(dir, de.Name()))
			}
		}
	}
}

// TrimFiles bounds a cache whose entries are single files in dirs (each
// found by name and made again when missing, so any one can go alone): the
// least recently used go first until the rest total at most max bytes,
// never the files in keep. Files isTemp recognises are writes in progress
// (or left over: RemoveStaleTemps), not entries. Best effort.
func TrimFiles(dirs []string, max int64, isTemp func(name string) bool, keep ...string) {
	var entries []CacheEntry
	for _, dir := range dirs {
		des, _ := os.ReadDir(dir)
		for _, de := range des {
			if !de.Type().IsRegular() || isTemp(de.Name()) {
				continue
			}
			fi, err := de.Info()
			if err != nil {
				continue
			}
			p := filepath.Join(dir, de.Name())
			entries = append(entries, CacheEntry{Files: []string{p}, Used: fi.ModTime(), Size: fi.Size(), Keep: slices.Contains(keep, p)})
		}
	}
	TrimLRU(entries, max)
}
