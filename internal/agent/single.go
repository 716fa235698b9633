package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/jbuild-dev/jbuild/internal/atomicfile"
)

// openSingleFile reads an agent that is one file (a -javaagent jar as a
// registry serves it, opentelemetry-javaagent-2.33.1.jar), installed under
// name, the name its profile activates (Options.SingleFile). The file is
// kept in the cache under its content digest and that name, and read as a
// folder holding only it, with the same checks and digest as any bundle;
// the bundle's source stays the file as given, so its name can tell the
// version (a profile's versionFrom.fileName).
func openSingleFile(ctx context.Context, file, name string, opts Options) (*Bundle, error) {
	if filepath.Base(name) != name || name == "." || name == ".." {
		return nil, fmt.Errorf("agent file %s: the profile's agentFile %q must be a file name", file, name)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("reading agent file %s: %w", file, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("reading agent file %s: %w", file, err)
	}
	dir := filepath.Join(opts.CacheDir, singleFilesDir, hex.EncodeToString(h.Sum(nil)))
	dest := filepath.Join(dir, name)
	if _, err := os.Stat(dest); err != nil {
		if err := makeCacheDir(dest); err != nil {
			return nil, err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		out, err := atomicfile.Create(dest, 0o644, atomicfile.TempPattern(tempPattern(dest)))
		if err != nil {
			return nil, cacheWriteError(dest, err)
		}
		defer out.Discard()
		if _, err := io.Copy(out, f); err != nil {
			return nil, cacheWriteError(dest, err)
		}
		if err := out.Commit(); err != nil {
			return nil, cacheWriteError(dest, err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("reading agent file %s: %w", file, err)
	}
	return readFS(ctx, root.FS(), dir, file, name, opts, newFileSums(opts, dir))
}

// singleFilesDir holds single-file agents in the cache (openSingleFile).
const singleFilesDir = "single-files"
