package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"
)

// slowFS is a MapFS whose Open waits (a round trip to buildkitd, as the
// frontend's build context reads) and fails for the names in broken.
type slowFS struct {
	fstest.MapFS
	delay      time.Duration
	broken     map[string]bool
	open, peak atomic.Int32
}

func (s *slowFS) Open(name string) (fs.File, error) {
	if n := s.open.Add(1); n > s.peak.Load() {
		s.peak.Store(n)
	}
	defer s.open.Add(-1)
	time.Sleep(s.delay)
	if s.broken[name] {
		return nil, errors.New("the read failed")
	}
	return s.MapFS.Open(name)
}

func agentFolderFS(files int) fstest.MapFS {
	m := fstest.MapFS{"jennifer.jar": {Data: []byte("jar"), Mode: 0o644}}
	for i := range files {
		m[fmt.Sprintf("lib/f%02d.jar", i)] = &fstest.MapFile{Data: []byte(strings.Repeat("x", i+1)), Mode: 0o644}
	}
	return m
}

// TestOpenFSHashesFilesAtOnce: a folder read through a slow file system
// (the gateway) has its files hashed several at once, with the same digest
// as one at a time, and a failure names the first failing file in walk
// order whichever read ends first.
func TestOpenFSHashesFilesAtOnce(t *testing.T) {
	ctx := context.Background()
	slow := &slowFS{MapFS: agentFolderFS(16), delay: 20 * time.Millisecond}
	b, err := OpenFS(ctx, slow, "agent.java", "agent.java", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p := slow.peak.Load(); p < 2 {
		t.Errorf("at most %d files were read at once; want several", p)
	}
	one, err := OpenFS(ctx, agentFolderFS(16), "agent.java", "agent.java", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Digest != one.Digest {
		t.Errorf("digest %s read at once, %s read plainly", b.Digest, one.Digest)
	}

	broken := &slowFS{MapFS: agentFolderFS(16), delay: time.Millisecond, broken: map[string]bool{"lib/f03.jar": true, "lib/f09.jar": true}}
	_, err = OpenFS(ctx, broken, "agent.java", "agent.java", Options{})
	if err == nil || !strings.Contains(err.Error(), "lib/f03.jar") || !strings.Contains(err.Error(), "agent folder agent.java") {
		t.Errorf("error %v; want one naming agent folder agent.java and lib/f03.jar, the first failing file", err)
	}
}
