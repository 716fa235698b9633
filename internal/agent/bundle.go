package agent

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// entry is one member of an agent folder, whatever it came from.
type entry struct {
	name     string      // clean, relative, slash-separated, no trailing slash
	mode     fs.FileMode // type bits + permission bits
	size     int64
	link     string // symlink target as stored
	hardlink string // tar hardlink: the clean name of the file it shares content with
	sum      [32]byte
	open     func() (io.ReadCloser, error) // regular files
}

func (e *entry) kind() string {
	switch {
	case e.mode.IsDir():
		return "dir"
	case e.mode&fs.ModeSymlink != 0:
		return "symlink"
	default:
		return "file"
	}
}

// GuessRoot returns the folder to strip from the entry names of an archive:
// its only top-level name, when that name is an agent folder (one of roots,
// or agent.* when roots is empty). JENNIFER's downloads unpack to agent.java/
// and friends; the bundle is what is inside.
func GuessRoot(names []string, roots []string) (string, bool) {
	top := ""
	for _, n := range names {
		t, _, _ := strings.Cut(strings.TrimPrefix(n, "./"), "/")
		if t == "" || t == "." {
			continue
		}
		if top != "" && t != top {
			return "", false
		}
		top = t
	}
	return top, top != "" && isRootName(top, roots)
}

func isRootName(name string, roots []string) bool {
	if len(roots) == 0 {
		return strings.HasPrefix(name, "agent.") && len(name) > len("agent.")
	}
	for _, r := range roots {
		if name == r {
			return true
		}
	}
	return false
}

// assemble turns the members of an archive into the checked, sorted file
// list of a bundle. With prefix set (an agent image's install dir) only the
// members below it are kept; otherwise a single top-level agent folder is
// stripped when strip is set. It returns the stripped folder's name.
func assemble(archive string, raw []*entry, prefix string, strip bool, roots []string) ([]*entry, string, error) {
	seen := make(map[string]bool, len(raw))
	names := make([]string, 0, len(raw))
	for _, e := range raw {
		if seen[e.name] {
			return nil, "", fmt.Errorf("reading agent archive %s: entry %q appears twice; the archive is ambiguous, get a fresh copy of the agent", archive, e.name)
		}
		seen[e.name] = true
		names = append(names, e.name)
	}
	if prefix == "" && strip {
		if r, ok := GuessRoot(names, roots); ok {
			prefix = r
		}
	}
	// Work on copies: assemble may run twice on the same members (once to
	// accept an archive into the cache, once to build the bundle).
	files := make([]*entry, len(raw))
	for i, e := range raw {
		c := *e
		files[i] = &c
	}
	if prefix != "" {
		var err error
		if files, err = stripPrefix(archive, files, prefix); err != nil {
			return nil, "", err
		}
	}
	byName := make(map[string]*entry, len(files))
	for _, e := range files {
		byName[e.name] = e
	}
	for _, e := range files {
		if e.hardlink == "" {
			continue
		}
		t := byName[e.hardlink]
		if t == nil || !t.mode.IsRegular() || t.hardlink != "" {
			return nil, "", fmt.Errorf("reading agent archive %s: entry %q: hard link to %q, which is not a regular file of the agent folder", archive, e.name, e.hardlink)
		}
		// A hard link is just another name for the same bytes: the bundle
		// holds it as a regular file with the target's content.
		e.mode, e.size, e.sum, e.open, e.hardlink = t.mode, t.size, t.sum, t.open, ""
	}
	for _, e := range files {
		for p := path.Dir(e.name); p != "."; p = path.Dir(p) {
			if a := byName[p]; a != nil && !a.mode.IsDir() {
				return nil, "", fmt.Errorf("reading agent archive %s: entry %q is below %q, which is a %s; the archive is unsafe", archive, e.name, p, a.kind())
			}
		}
		if e.mode&fs.ModeSymlink != 0 {
			if err := checkLink(archive, e.name, e.link); err != nil {
				return nil, "", err
			}
			// A symlink's permission bits mean nothing on Linux and archivers
			// disagree on them (0777, 0755, 0): one value keeps the digest
			// independent of the packaging.
			e.mode = fs.ModeSymlink | 0o777
		}
	}
	// Archives may leave out folder entries; a folder walk never does. Add
	// the missing ones so both give the same file list and digest.
	for _, e := range files {
		for p := path.Dir(e.name); p != "." && byName[p] == nil; p = path.Dir(p) {
			d := &entry{name: p, mode: fs.ModeDir | 0o755}
			byName[p] = d
			files = append(files, d)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	return files, path.Base(prefix), nil
}

// stripPrefix keeps the members below prefix, renamed relative to it.
func stripPrefix(archive string, raw []*entry, prefix string) ([]*entry, error) {
	var out []*entry
	for _, e := range raw {
		rel, ok := strings.CutPrefix(e.name, prefix+"/")
		if !ok {
			if e.name == prefix && !e.mode.IsDir() {
				return nil, fmt.Errorf("reading agent archive %s: entry %q: the agent folder is a %s, not a folder", archive, e.name, e.kind())
			}
			continue // the folder itself, or outside it (an image's /opt)
		}
		c := *e
		c.name = rel
		if e.hardlink != "" {
			if c.hardlink, ok = strings.CutPrefix(e.hardlink, prefix+"/"); !ok {
				return nil, fmt.Errorf("reading agent archive %s: entry %q: hard link to %q points outside the agent folder %s", archive, e.name, e.hardlink, prefix)
			}
		}
		out = append(out, &c)
	}
	return out, nil
}

// newBundle makes the Bundle of an assembled file list.
func newBundle(source, name, version string, files []*entry) *Bundle {
	byName := make(map[string]*entry, len(files))
	agentFiles := make([]buildplan.AgentFile, 0, len(files))
	for _, e := range files {
		byName[e.name] = e
		f := buildplan.AgentFile{Path: e.name, Mode: e.mode, Link: e.link}
		switch {
		case e.mode.IsDir():
			f.Path += "/"
		case e.mode.IsRegular():
			f.Size = e.size
		}
		agentFiles = append(agentFiles, f)
	}
	open := func(rel string) (io.ReadCloser, error) {
		clean := path.Clean(strings.TrimPrefix(rel, "./"))
		e := byName[clean]
		switch {
		case e == nil:
			return nil, fmt.Errorf("agent %s has no file %q: %w", source, rel, fs.ErrNotExist)
		case !e.mode.IsRegular():
			return nil, fmt.Errorf("agent %s: %q is a %s, not a regular file", source, rel, e.kind())
		}
		return e.open()
	}
	b := &Bundle{Open: open}
	b.Agent = buildplan.Agent{
		Name:    name,
		Version: version,
		Source:  source,
		Digest:  digest(files),
		Files:   agentFiles,
		ReadFile: func(rel string) ([]byte, error) {
			rc, err := open(rel)
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			return io.ReadAll(rc)
		},
	}
	return b
}

// digest is the sha256 of a canonical listing of the bundle: one line per
// entry in path order with its type, normalised permissions, link target
// and content sha256. Neither the packaging (folder, zip, tar, image) nor
// timestamps or owners enter it, so the same agent files give the same
// digest wherever they came from.
//
// Permissions are normalised the way git does (files 0644, or 0755 when any
// execute bit is set; folders and symlinks carry none): the exact bits of a
// folder or a non-executable file depend on the umask of whoever unpacked or
// checked out the agent and on the archiver, and the agent layer takes its
// modes from the plan anyway. A digest that moved with the umask would move
// the io.jbuild.agent.digest label, and so the image digest, between machines.
func digest(files []*entry) string {
	h := sha256.New()
	io.WriteString(h, "jbuild-agent-bundle-v1\n")
	for _, e := range files {
		sum, perm := "-", fs.FileMode(0)
		if e.mode.IsRegular() {
			sum = fmt.Sprintf("%x", e.sum)
			perm = 0o644
			if e.mode&0o111 != 0 {
				perm = 0o755
			}
		}
		fmt.Fprintf(h, "%q %s %o %q %s\n", e.name, e.kind(), perm, e.link, sum)
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil))
}
