package agent

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// paddedAgents serves /agent/<n> as a .tar.gz whose unpacked tar is a
// thousand times its size (a padding file compresses to almost nothing),
// as the agents that filled agent-tars/ did; each n is another agent.
func paddedAgents(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		files := sampleAgent()
		files[1].body = r.URL.Path + strings.Repeat("\x00", 200<<10)
		w.Write(makeTar(t, files, true))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// cacheFiles lists the agent cache's files with their ages, by path.
func cacheFiles(t *testing.T, dir string) map[string]int64 {
	out := map[string]int64{}
	for _, rel := range listFiles(t, dir) {
		if fi, err := os.Stat(filepath.Join(dir, rel)); err == nil {
			out[rel] = fi.Size()
		}
	}
	return out
}

// age sets the modification time, the cache's "last used", of the files
// in dir not in old.
func age(t *testing.T, dir string, old map[string]int64, ago time.Duration) map[string]int64 {
	now := cacheFiles(t, dir)
	ts := time.Now().Add(-ago)
	for rel := range now {
		if _, ok := old[rel]; !ok {
			os.Chtimes(filepath.Join(dir, rel), ts, ts)
		}
	}
	return now
}

func total(files map[string]int64) (n int64) {
	for _, s := range files {
		n += s
	}
	return n
}

// The agent cache (downloads, unpacked tars) keeps within CacheMax by
// removing the least recently used files: a cache hit counts as a use, the
// agent being opened is kept even when it alone is over the bound, and
// other caches sharing CacheDir (the CLI's layers/) are not touched.
func TestCacheBound(t *testing.T) {
	srv := paddedAgents(t)
	dir := t.TempDir()
	layers := filepath.Join(dir, "layers", "old.tar.gz")
	os.MkdirAll(filepath.Dir(layers), 0o755)
	os.WriteFile(layers, make([]byte, 1<<20), 0o644)
	os.Chtimes(layers, time.Now().Add(-time.Hour*24), time.Now().Add(-time.Hour*24))

	opts := Options{CacheDir: dir, HTTPClient: srv.Client(), CacheMax: -1}
	bundleOf(t, srv.URL+"/agent/1", opts)
	set1 := age(t, dir, map[string]int64{"layers/old.tar.gz": 0}, 3*time.Hour)
	one := total(set1) - 1<<20
	opts.CacheMax = one * 5 / 2 // room for two agents, not three
	bundleOf(t, srv.URL+"/agent/2", opts)
	set2 := age(t, dir, set1, 2*time.Hour)
	bundleOf(t, srv.URL+"/agent/1", opts) // used again: now the most recent
	bundleOf(t, srv.URL+"/agent/3", opts)

	now := cacheFiles(t, dir)
	for rel := range set2 {
		_, wasSet1 := set1[rel]
		if _, kept := now[rel]; kept == !wasSet1 && rel != "layers/old.tar.gz" {
			t.Errorf("%s: kept %v, want agent 1 (used again) kept and agent 2 (least recently used) removed", rel, kept)
		}
	}
	if _, ok := now["layers/old.tar.gz"]; !ok {
		t.Error("the layer cache next to the agent cache was trimmed")
	}
	if n := total(now) - 1<<20; n > opts.CacheMax {
		t.Errorf("agent cache holds %d bytes, bound %d: %v", n, opts.CacheMax, now)
	}
	if tars, _ := filepath.Glob(filepath.Join(dir, "agent-tars", "*.tar")); len(tars) != 2 {
		t.Errorf("unpacked tars %v, want agents 1 and 3", tars)
	}

	// A bound below one agent: the one being opened stays (its tar, which
	// the bundle reads), everything else goes.
	opts.CacheMax = 1
	b := bundleOf(t, srv.URL+"/agent/4", opts)
	got := slices.Sorted(func(yield func(string) bool) {
		for rel := range cacheFiles(t, dir) {
			if !yield(rel) {
				return
			}
		}
	})
	if len(got) != 2 || !strings.HasPrefix(got[0], "agent-tars/") || got[1] != "layers/old.tar.gz" {
		t.Errorf("cache after opening with a 1-byte bound: %v, want the new agent's tar (and layers/)", got)
	}
	rc, err := b.Open("jennifer.jar")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if !strings.HasPrefix(string(data), "/agent/4") {
		t.Errorf("bundle reads %q...", data[:min(len(data), 10)])
	}
}

// Temporary files a killed run left (older than an hour) are removed when
// the next run starts; a fresh one, a concurrent run's, stays, and so do
// cache entries, whatever their age.
func TestCacheStaleTempsRemoved(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	plant := func(rel string, mtime time.Time) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, make([]byte, 4096), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, mtime, mtime)
	}
	plant("agent-tars/0123abcd.tar.tmp-1234567", old)        // a SIGKILL while unpacking
	plant("downloads/download.tmp-42", old)                  // ... while downloading
	plant("agent-tars/4567cdef.tar.tmp-7654321", time.Now()) // a concurrent run's
	plant("downloads/0123abcd", old)                         // an old download: an entry, not a temp
	plant("layers/0123.tar.gz.tmp-99", old)                  // another cache's: not ours to judge

	agentDir := filepath.Join(t.TempDir(), "agent.java")
	writeTree(t, agentDir, sampleAgent())
	bundleOf(t, agentDir, Options{CacheDir: dir})

	got := cacheFiles(t, dir)
	for rel, want := range map[string]bool{
		"agent-tars/0123abcd.tar.tmp-1234567": false,
		"downloads/download.tmp-42":           false,
		"agent-tars/4567cdef.tar.tmp-7654321": true,
		"downloads/0123abcd":                  true,
		"layers/0123.tar.gz.tmp-99":           true,
	} {
		if _, ok := got[rel]; ok != want {
			t.Errorf("%s: present %v, want %v", rel, ok, want)
		}
	}
}
