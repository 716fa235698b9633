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
	var entries []CacheEntry
	for _, m := range metas {
		key := strings.TrimSuffix(filepath.Base(m), ".json")
		mi, err := os.Stat(m)
		if err != nil {
			continue
		}
		blob := filepath.Join(dir, key+".tar.gz")
		size := mi.Size()
		if bi, err := os.Stat(blob); err == nil {
			size += bi.Size()
		}
		entries = append(entries, CacheEntry{Files: []string{m, blob}, Used: mi.ModTime(), Size: size, Keep: key == keep})
	}
	TrimLRU(entries, max)
}

// CacheEntry is one unit of a cache that TrimLRU may remove.
type CacheEntry struct {
	// Files are removed in this order. The entry is gone once the first
	// is: it must be the file readers look for first (a layer's .json),
	// so no reader trusts an entry that is half removed.
	Files []string
	// Used is the entry's last use (a modification time the cache moves
	// on every hit): the least recently used go first.
	Used time.Time
	// Size is the bytes of all Files.
	Size int64
	// Keep protects the entry (the one just written, which the caller is
	// about to use).
	Keep bool
}

// TrimLRU removes the least recently used entries until the others total
// at most max bytes. It is shared by the layer cache and package agent's
// download cache so both bound their disk use the same way. Best effort:
// an entry whose first file cannot be removed stays, and still counts.
func TrimLRU(entries []CacheEntry, max int64) {
	var total int64
	for _, e := range entries {
		total += e.Size
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Used.Before(entries[j].Used) })
	for _, e := range entries {
		if total <= max {
			return
		}
		if e.Keep || len(e.Files) == 0 {
			continue
		}
		if os.Remove(e.Files[0]) == nil {
			for _, f := range e.Files[1:] {
				os.Remove(f)
			}
			total -= e.Size
		}
	}
}
