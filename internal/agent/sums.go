package agent

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"os"
	"sync"
	"time"
)

// fileSums remembers the sha256 of an agent folder's files by what stat
// says of them (device, inode, size, modification and change time), as
// git's index does, so an agent folder that did not change is not read
// again on the next run: hashing is most of the time to open a 20 MB agent.
// Change times cannot be set by a user and move on every write, so a file
// that was written after its sum was recorded never matches. A file whose
// times are within racyWindow of the moment its sum is recorded is not
// recorded at all (git's "racily clean" case: a write in the same clock
// tick would leave the times as they were).
//
// The record is one JSON file per folder in the agent cache
// (file-sums/<sha256 of the folder's absolute path>.json), replaced
// atomically; a missing or unreadable record just means hashing again.
type fileSums struct {
	path string
	opts Options // for trimming the cache after a save
	mu   sync.Mutex
	old  map[string]fileSum
	new  map[string]fileSum
}

type fileSum struct {
	Stat statKey `json:"stat"`
	Sum  string  `json:"sha256"`
}

// statKey is what must not change for a recorded sum to hold.
type statKey struct {
	Dev, Ino, Size int64
	Mtime, Ctime   int64 // nanoseconds since the epoch
}

// racyWindow is a variable for tests only.
var racyWindow = 2 * time.Second

func newFileSums(opts Options, absDir string) *fileSums {
	h := sha256.Sum256([]byte(absDir))
	s := &fileSums{path: cachePath(opts, "file-sums", hex.EncodeToString(h[:])+".json"), opts: opts, old: map[string]fileSum{}, new: map[string]fileSum{}}
	if data, err := os.ReadFile(s.path); err == nil {
		json.Unmarshal(data, &s.old) // a damaged record is ignored
		touch(s.path)                // used: an unchanged record is not rewritten
	}
	return s
}

// lookup returns the recorded sum of the file rel with stat fi.
func (s *fileSums) lookup(rel string, fi fs.FileInfo) ([32]byte, bool) {
	var sum [32]byte
	if s == nil {
		return sum, false
	}
	k, ok := statOf(fi)
	if !ok {
		return sum, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.old[rel]
	if !ok || r.Stat != k {
		return sum, false
	}
	b, err := hex.DecodeString(r.Sum)
	if err != nil || len(b) != len(sum) {
		return sum, false
	}
	copy(sum[:], b)
	s.new[rel] = r
	return sum, true
}

// record notes the sum of rel, read with stat fi, unless its times are
// too recent to tell a later write apart.
func (s *fileSums) record(rel string, fi fs.FileInfo, sum [32]byte) {
	if s == nil {
		return
	}
	k, ok := statOf(fi)
	if !ok {
		return
	}
	limit := time.Now().Add(-racyWindow).UnixNano()
	if k.Mtime > limit || k.Ctime > limit {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.new[rel] = fileSum{Stat: k, Sum: hex.EncodeToString(sum[:])}
}

// save writes the record when it changed: the files seen this time.
func (s *fileSums) save() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.new) == len(s.old) {
		same := true
		for k, v := range s.new {
			if s.old[k] != v {
				same = false
				break
			}
		}
		if same {
			return
		}
	}
	data, err := json.Marshal(s.new)
	if err != nil {
		return
	}
	if writeFileAtomic(s.path, data) == nil { // best effort: the next run hashes again
		trimCache(s.opts, s.path)
	}
}
