package agentlayer

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// The cache keeps within its bound by removing the least recently used
// layers, never the one just written; a cache hit counts as a use.
func TestCacheTrim(t *testing.T) {
	dir := t.TempDir()
	entries, b := sampleEntries(t)
	opts := Options{CacheDir: dir, CacheMax: -1}
	var keys []string
	var layers [][]buildplan.LayerEntry
	base := time.Now().Add(-time.Hour)
	for i := range 4 {
		e := append(entries[:len(entries):len(entries)], entries[0])
		e[len(e)-1].Path += "-" + string(rune('a'+i)) // another layer each time
		if _, err := Build(e, b.open, opts); err != nil {
			t.Fatal(err)
		}
		layers = append(layers, e)
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
	// A hit on the oldest makes it the most recently used: Build moves its
	// use time (an hour ago) to now.
	l, err := Build(layers[0], b.open, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Digest(); err != nil {
		t.Fatal(err)
	}
	if metas, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(metas) != 4 {
		t.Fatalf("%d cache entries after the hit, want 4: it was not a hit", len(metas))
	}
	if fi, err := os.Stat(filepath.Join(dir, keys[0]+".json")); err != nil || time.Since(fi.ModTime()) > 10*time.Minute {
		t.Errorf("the cache hit left the entry's use time as it was (%v)", err)
	}
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
