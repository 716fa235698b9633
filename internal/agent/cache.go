package agent

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/jbuild-dev/jbuild/internal/atomicfile"
)

// Cache layout under Options.CacheDir (default ~/.cache/jbuild):
//
//	downloads/<sha256>            a downloaded agent archive, named by content
//	downloads/url-<sha256>.json   per URL (hashed): its validators and content sha256
//	agent-tars/<sha256>.tar       the uncompressed tar of a .tar.gz or image layer
//	                              whose compressed bytes have that sha256
//	file-sums/<sha256>.json       per agent folder (its absolute path, hashed):
//	                              file sums by stat (see fileSums)
//
// Every file is written under a temporary name in the same folder
// (<name>.tmp-<digits>) and renamed into place when complete (records
// through internal/atomicfile), so a crash or a refused archive never
// leaves a partial file where a later run would trust it; Open removes
// temporary files a killed run left (see removeStaleTemps). Entries are immutable once written (a file-sums record
// is replaced whole), and each is found by name and made again when
// missing, so trimming to Options.CacheMax (see trimCache) and deleting the
// folder are always safe. A file's modification time is its last use.

func cachePath(opts Options, sub, name string) string {
	return filepath.Join(opts.CacheDir, sub, name)
}

// createTemp creates a temporary file next to dest (so the final rename is
// atomic), creating the folder when needed.
func createTemp(dest string) (*os.File, error) {
	if err := makeCacheDir(dest); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(dest), tempPattern(dest))
	if err != nil {
		return nil, cacheWriteError(dest, err)
	}
	return f, nil
}

// writeFileAtomic writes data to name through a temporary file and rename
// (atomicfile), creating the folder when needed.
func writeFileAtomic(name string, data []byte) error {
	if err := makeCacheDir(name); err != nil {
		return err
	}
	f, err := atomicfile.Create(name, 0o600, atomicfile.TempPattern(tempPattern(name)))
	if err != nil {
		return cacheWriteError(name, err)
	}
	defer f.Discard()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Commit()
}

// tempPattern names dest's temporary files <name>.tmp-<digits>, which
// removeStaleTemps recognises.
func tempPattern(dest string) string { return filepath.Base(dest) + ".tmp-*" }

func makeCacheDir(dest string) error {
	dir := filepath.Dir(dest)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the agent cache %s: %w (set XDG_CACHE_HOME to a writable folder)", dir, err)
	}
	return nil
}

func cacheWriteError(dest string, err error) error {
	return fmt.Errorf("writing to the agent cache %s: %w (set XDG_CACHE_HOME to a writable folder)", filepath.Dir(dest), err)
}
