package agent

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"
)

// openDir reads an agent folder (agent.java/) or a folder holding exactly
// one agent folder. It goes through the same checks as an archive: a folder
// copied from elsewhere can hold an escaping symlink just as well.
func openDir(ctx context.Context, spec string, opts Options) (*Bundle, error) {
	dir := agentDir(spec, opts.BundleRoot)
	// os.Root confines every later read to the folder, even if a symlink
	// inside it is swapped after the checks.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("reading agent folder %s: %w", dir, err)
	}
	abs, _ := filepath.Abs(dir)
	return readFS(ctx, root.FS(), dir, spec, filepath.Base(abs), opts, newFileSums(opts, abs))
}

// OpenFS reads an agent folder from any file system that can list
// directories, stat without following links and read links (fs.ReadDirFS,
// fs.ReadLinkFS), with the same checks and the same Digest as a folder on
// disk. The BuildKit frontend uses it on a build context. what names the
// folder in messages; source is recorded as the bundle's Source.
func OpenFS(ctx context.Context, fsys fs.FS, what, source string, opts Options) (*Bundle, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return readFS(ctx, fsys, what, source, path.Base(what), opts, nil)
}

// readFS walks an agent folder; sums, when set, remembers file hashes
// between runs (a folder on disk).
func readFS(ctx context.Context, fsys fs.FS, dir, spec, name string, opts Options, sums *fileSums) (*Bundle, error) {
	lim := newFolderLimits(dir, opts)
	var raw []*entry
	var toHash []hashJob
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading agent folder %s: %w", dir, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if name == "." {
			return nil
		}
		if _, err := cleanFolderName(dir, name); err != nil {
			return err
		}
		fi, err := d.Info() // Lstat: WalkDir does not follow symlinks
		if err != nil {
			return fmt.Errorf("reading agent folder %s: %w", dir, err)
		}
		mode := fi.Mode()
		if err := checkFolderMode(dir, name, mode); err != nil {
			return err
		}
		size := int64(0)
		if mode.IsRegular() {
			size = fi.Size()
		}
		if err := lim.add(name, size); err != nil {
			return err
		}
		e := &entry{name: name, mode: mode.Type() | mode.Perm(), size: size}
		switch {
		case mode.IsDir():
		case mode&fs.ModeSymlink != 0:
			if e.link, err = fs.ReadLink(fsys, name); err != nil {
				return fmt.Errorf("reading agent folder %s: %w", dir, err)
			}
			if err := checkFolderLink(dir, name, e.link); err != nil {
				return err // before assemble's checkLink, which says "archive"
			}
		case mode.IsRegular():
			e.open = func() (io.ReadCloser, error) { return fsys.Open(name) }
			if opts.KnownDigest != "" {
				break
			}
			if sum, ok := sums.lookup(name, fi); ok {
				e.sum = sum
				break
			}
			toHash = append(toHash, hashJob{e: e, fi: fi})
		default:
			return fmt.Errorf("reading agent folder %s: %q: unsupported file type %v", dir, name, mode.Type())
		}
		raw = append(raw, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := hashFiles(ctx, fsys, toHash, sums); err != nil {
		return nil, fmt.Errorf("reading agent folder %s: %w", dir, err)
	}
	files, _, err := assemble(dir, raw, "", false, nil)
	if err != nil {
		return nil, err
	}
	sums.save()
	b := newBundle(spec, name, "", files)
	if opts.KnownDigest != "" {
		b.Digest = opts.KnownDigest
	}
	return b, nil
}

// agentDir picks the agent folder: dir itself when it is named like one or
// does not hold exactly one agent folder, else that one folder.
func agentDir(dir string, roots []string) string {
	abs, _ := filepath.Abs(dir)
	if isRootName(filepath.Base(abs), roots) {
		return dir
	}
	if sub, ok := SingleAgentFolder(os.DirFS(dir), roots); ok {
		return filepath.Join(dir, sub)
	}
	return dir
}

// SingleAgentFolder names the one agent folder fsys holds at its top (a
// folder named as one of roots, or agent.* when roots is empty), for a
// folder given that holds the agent folder rather than being it; false when
// it holds none or several, or cannot be listed.
func SingleAgentFolder(fsys fs.FS, roots []string) (string, bool) {
	des, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return "", false
	}
	var found []string
	for _, d := range des {
		if d.IsDir() && isRootName(d.Name(), roots) {
			found = append(found, d.Name())
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return "", false
}

// hashJob is a regular file the walk found whose hash is not known yet.
type hashJob struct {
	e  *entry
	fi fs.FileInfo
}

// hashWorkers bounds the files hashed at once. On disk that keeps both
// cores hashing; through the BuildKit gateway (the frontend's build
// context) every read is a round trip to buildkitd, and reading several
// files at once overlaps those waits instead of adding them up.
const hashWorkers = 8

// hashFiles hashes the files of jobs, several at once. The error it
// returns is the one of the first failing file in walk order, so the
// message does not depend on which read finished first.
func hashFiles(ctx context.Context, fsys fs.FS, jobs []hashJob, sums *fileSums) error {
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, hashWorkers)
	var wg sync.WaitGroup
	for i, j := range jobs {
		if ctx.Err() != nil {
			errs[i] = ctx.Err()
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			sum, err := hashFile(fsys, j.e.name, j.e.size)
			if err != nil {
				errs[i] = fmt.Errorf("%q: %w", j.e.name, err)
				return
			}
			j.e.sum = sum
			sums.record(j.e.name, j.fi, sum)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func hashFile(fsys fs.FS, name string, size int64) ([32]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return [32]byte{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return [32]byte{}, err
	}
	if n != size {
		return [32]byte{}, fmt.Errorf("changed while being read (%d bytes, was %d)", n, size)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s, nil
}
