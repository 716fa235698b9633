package agentlayer

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The cache keeps within its bound by removing the least recently used
// layers, never the one just written; a cache hit counts as a use.
func TestCacheTrim(t *testing.T) {
	dir := t.TempDir()
	entries, b := sampleEntries(t)
	opts := Options{CacheDir: dir, CacheMax: -1}
	var keys []string
	base := time.Now().Add(-time.Hour)
	for i := range 4 {
		e := append(entries[:len(entries):len(entries)], entries[0])
		e[len(e)-1].Path += "-" + string(rune('a'+i)) // another layer each time
		if _, err := Build(e, b.open, opts); err != nil {
			t.Fatal(err)
		}
		metas, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, m := range metas {
			k := filepath.Base(m[:len(m)-len(".json")])
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
				ts := base.Add(time.Duration(i) * time.Minute)
				os.Chtimes(m, ts, ts)
			}
		}
	}
	if len(keys) != 4 {
		t.Fatalf("%d cache entries, want 4", len(keys))
	}
	// A hit on the oldest makes it the most recently used.
	touch(dir, keys[0])
	size := func(k string) int64 {
		var n int64
		for _, ext := range []string{".json", ".tar.gz"} {
			fi, err := os.Stat(filepath.Join(dir, k+ext))
			if err == nil {
				n += fi.Size()
			}
		}
		return n
	}
	// Room for two entries: keys[1] and keys[2] (the least recently used)
	// go; keys[3] is the one "just written" and keys[0] was just used.
	trim(dir, keys[3], size(keys[0])+size(keys[3]))
	for i, want := range []bool{true, false, false, true} {
		_, err := os.Stat(filepath.Join(dir, keys[i]+".json"))
		_, berr := os.Stat(filepath.Join(dir, keys[i]+".tar.gz"))
		if (err == nil) != want || (berr == nil) != want {
			t.Errorf("entry %d: present %v/%v, want %v", i, err == nil, berr == nil, want)
		}
	}
}
