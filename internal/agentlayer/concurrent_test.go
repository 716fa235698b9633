package agentlayer

import (
	"sync"
	"testing"
)

// Builds of one layer at the same time (`wrap -f` wrapping images that
// share an agent) compress it once: the others wait and hit the cache.
func TestConcurrentBuildsCompressOnce(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "")
	entries, b := sampleEntries(t)
	opts := Options{CacheDir: t.TempDir(), ContentDigest: "sha256:c0ffee"}
	var wg sync.WaitGroup
	digests := make([]string, 6)
	for i := range digests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := Build(entries, b.open, opts)
			if err != nil {
				t.Error(err)
				return
			}
			d, _ := l.Digest()
			digests[i] = d.String()
		}()
	}
	wg.Wait()
	if n := b.opens.Load(); n != 1 {
		t.Errorf("6 concurrent builds opened the agent file %d times, want 1 (compressed once)", n)
	}
	for _, d := range digests[1:] {
		if d != digests[0] {
			t.Errorf("digests differ: %v", digests)
		}
	}
}
