package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A folder's file sums are remembered by stat: a second open takes the
// recorded sum of an unchanged file without reading it (shown by planting
// a wrong sum), and any write to the file (its change time moves) makes it
// hashed again. Files written within the racy window are not recorded.
func TestFileSumsByStat(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "agent.java")
	writeTree(t, filepath.Dir(dir), sampleAgent())
	cache := t.TempDir()
	open := func() *Bundle { return bundleOf(t, dir, Options{CacheDir: cache}) }

	first := open()
	if recs, _ := filepath.Glob(filepath.Join(cache, "file-sums", "*.json")); len(recs) != 0 {
		t.Fatalf("files written just now were recorded: %v", recs)
	}

	racyWindow = 0
	t.Cleanup(func() { racyWindow = 2 * time.Second })
	time.Sleep(10 * time.Millisecond)
	if again := open(); again.Digest != first.Digest {
		t.Fatalf("digest changed from %s to %s with no change", first.Digest, again.Digest)
	}
	recs, _ := filepath.Glob(filepath.Join(cache, "file-sums", "*.json"))
	if len(recs) != 1 {
		t.Fatalf("records: %v; want one for the folder", recs)
	}
	data, err := os.ReadFile(recs[0])
	if err != nil || !strings.Contains(string(data), `"jennifer.jar"`) {
		t.Fatalf("record %s: %s, %v", recs[0], data, err)
	}
	// Plant a wrong sum for jennifer.jar: an open that trusts the record
	// gets another digest.
	const zeros = "0000000000000000000000000000000000000000000000000000000000000000"
	sums := newFileSums(Options{CacheDir: cache}, mustAbs(t, dir))
	r := sums.old["jennifer.jar"]
	r.Sum = zeros
	sums.new = sums.old
	sums.new["jennifer.jar"] = r
	sums.old = map[string]fileSum{}
	sums.save()
	if planted := open(); planted.Digest == first.Digest {
		t.Fatal("the recorded sum was not used: the jar was read again")
	}
	// Rewrite the jar with the same bytes, size and modification time:
	// its change time moves, so it is hashed again.
	jar := filepath.Join(dir, "jennifer.jar")
	fi, err := os.Stat(jar)
	if err != nil {
		t.Fatal(err)
	}
	content, _ := os.ReadFile(jar)
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(jar, content, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(jar, fi.ModTime(), fi.ModTime())
	if rehashed := open(); rehashed.Digest != first.Digest {
		t.Errorf("after a write the digest is %s, want the real %s", rehashed.Digest, first.Digest)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
