package imagefs

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/atomicfile"
)

// A layer never changes under its digest, so what it does to the
// filesystem (its entries' headers and the few small files detection
// keeps) is remembered per digest: a base's layers are downloaded and read
// once per machine, and every later wrap of an image on that base reads
// only the layers it has not seen (a CI build's new application layer).
// An entry is a small gzipped JSON file: headers only, a few hundred bytes
// per thousand files of the layer.

// DefaultCacheMax bounds the layer-files cache. Entries are small (tens
// to hundreds of KiB), so this holds thousands of layers.
const DefaultCacheMax = 256 << 20

// cacheFormat changes whenever layerOp changes meaning.
const cacheFormat = "1"

// WithCache keeps what each layer holds in dir (created if missing),
// bounded to max bytes (least recently used removed first).
func WithCache(dir string, max int64) Option {
	return func(f *FS) {
		if dir != "" {
			f.cache = &layerCache{dir: dir, max: max}
		}
	}
}

// DefaultCacheDir is $XDG_CACHE_HOME/jbuild/layer-files (~/.cache/...), or
// "" when there is no user cache folder.
func DefaultCacheDir() string {
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(base, "jbuild", "layer-files")
}

// opKind is what a layerOp does.
type opKind string

const (
	opAdd      opKind = ""  // an entry (file, folder, symlink, device...)
	opHardLink opKind = "h" // a hard link: a copy of Link's entry
	opWhiteout opKind = "w" // Path is removed
	opOpaque   opKind = "o" // what lower layers have below Path is hidden
)

// layerOp is one thing a layer does to the filesystem.
type layerOp struct {
	Kind    opKind      `json:"k,omitempty"`
	Path    string      `json:"p"`
	Mode    fs.FileMode `json:"m,omitempty"`
	UID     int         `json:"u,omitempty"`
	GID     int         `json:"g,omitempty"`
	Size    int64       `json:"s,omitempty"`
	Link    string      `json:"l,omitempty"`
	Content []byte      `json:"c,omitempty"`
	Kept    bool        `json:"kept,omitempty"`
}

type layerCache struct {
	dir string
	max int64
}

// decoded keeps, for the life of the process, the operations of the cache
// entries it has read or written: `wrap -f` plans many images on one base,
// and each decoded the same gzipped JSON of the same layers again. Read
// only once made (applyOps copies what it keeps). At most decodedMax
// entries: past that, entries are decoded each time, as before.
var (
	decoded  sync.Map // cache file name -> []layerOp
	nDecoded atomic.Int32
)

const decodedMax = 512

func remember(name string, ops []layerOp) {
	if nDecoded.Add(1) <= decodedMax {
		decoded.Store(name, ops)
	}
}

// file names an entry: the layer digest plus which contents were kept
// (another set of patterns keeps other files).
func (c *layerCache) file(d v1.Hash, keep []string) string {
	sum := sha256.Sum256([]byte(cacheFormat + "\x00" + strings.Join(keep, "\x00")))
	return filepath.Join(c.dir, d.Algorithm+"-"+d.Hex+"-"+hex.EncodeToString(sum[:6])+".json.gz")
}

// load returns the cached operations of layer d; ok false on any miss or
// damage (the layer is then read again).
func (c *layerCache) load(d v1.Hash, keep []string) (ops []layerOp, ok bool) {
	if c == nil {
		return nil, false
	}
	name := c.file(d, keep)
	if v, ok := decoded.Load(name); ok {
		return v.([]layerOp), true
	}
	fh, err := os.Open(name)
	if err != nil {
		return nil, false
	}
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		return nil, false
	}
	if err := json.NewDecoder(zr).Decode(&ops); err != nil {
		return nil, false
	}
	now := time.Now()
	os.Chtimes(name, now, now) // a use: trimming removes the least recently used
	remember(name, ops)
	return ops, true
}

// store writes the operations of layer d. Best effort: a cache that cannot
// be written only costs a download next time. The file appears complete
// or not at all (written aside, then renamed).
func (c *layerCache) store(d v1.Hash, keep []string, ops []layerOp) {
	if c == nil {
		return
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return
	}
	name := c.file(d, keep)
	// ".tmp-*": the names trim removes when a killed run left them.
	err := atomicfile.Write(name, 0o644, func(w io.Writer) error {
		zw := gzip.NewWriter(w)
		err := json.NewEncoder(zw).Encode(ops)
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		return err
	}, atomicfile.ExactPerm(), atomicfile.TempPattern(".tmp-*"))
	if err != nil {
		return
	}
	remember(name, ops)
	c.trim(name)
}

func (c *layerCache) trim(keep string) {
	if c.max <= 0 {
		return
	}
	dirs := []string{c.dir}
	agentlayer.RemoveStaleTemps(dirs, isTemp) // a killed run's
	agentlayer.TrimFiles(dirs, c.max, isTemp, keep)
}

// isTemp: atomicfile's temp files here are ".tmp-*" (TempPattern in store).
func isTemp(name string) bool { return strings.HasPrefix(name, ".tmp-") }
