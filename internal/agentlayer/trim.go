package agentlayer

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultCacheMax bounds the layer cache: about a hundred 20 MB agents.
// Every new agent version (or config change) adds one compressed layer, so
// without a bound a CI cache or a laptop fills up over months.
const DefaultCacheMax = 2 << 30

// touch marks a cache entry as used now (its .json's modification time),
// so trimming removes the least recently used entries first.
func touch(dir, key string) {
	now := time.Now()
	os.Chtimes(filepath.Join(dir, key+".json"), now, now)
}

// trim removes the least recently used entries of the cache in dir until
// it holds at most max bytes, never the entry keep. Each entry goes .json
// first: a reader that finds the .json still finds the .tar.gz (one that
// already opened it keeps reading it), and one that finds no .json
// rebuilds. Best effort: errors leave entries in place.
func trim(dir, keep string, max int64) {
	if max <= 0 {
		return
	}
	metas, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return
	}
	type entry struct {
		key  string
		used time.Time
		size int64
	}
	var entries []entry
	var total int64
	for _, m := range metas {
		key := strings.TrimSuffix(filepath.Base(m), ".json")
		mi, err := os.Stat(m)
		if err != nil {
			continue
		}
		size := mi.Size()
		if bi, err := os.Stat(filepath.Join(dir, key+".tar.gz")); err == nil {
			size += bi.Size()
		}
		total += size
		entries = append(entries, entry{key, mi.ModTime(), size})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].used.Before(entries[j].used) })
	for _, e := range entries {
		if total <= max {
			return
		}
		if e.key == keep {
			continue
		}
		if os.Remove(filepath.Join(dir, e.key+".json")) == nil {
			os.Remove(filepath.Join(dir, e.key+".tar.gz"))
			total -= e.size
		}
	}
}
