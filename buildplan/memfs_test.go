package buildplan_test

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// memFS is an in-memory ImageFS that records every call, so tests can assert
// that planning touched image files only when it had to.
type memFS struct {
	files map[string]string // absolute path -> content
	dirs  map[string]bool
	// stats overrides what Lookup says of a path (an owner, a mode, a
	// symlink); paths only here exist only for Lookup.
	stats map[string]buildplan.FileStat
	calls []string
}

var _ buildplan.ImageFS = (*memFS)(nil)

func newMemFS(files map[string]string, extraDirs []string) *memFS {
	m := &memFS{files: map[string]string{}, dirs: map[string]bool{"/": true}}
	add := func(d string) {
		for ; d != "/" && d != "."; d = path.Dir(d) {
			m.dirs[d] = true
		}
	}
	for p, c := range files {
		m.files[p] = c
		add(path.Dir(p))
	}
	for _, d := range extraDirs {
		add(d)
	}
	return m
}

type memInfo struct {
	name string
	size int64
	dir  bool
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }
func (i memInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o755
}

func (m *memFS) Stat(p string) (fs.FileInfo, error) {
	m.calls = append(m.calls, "stat "+p)
	if c, ok := m.files[p]; ok {
		return memInfo{name: path.Base(p), size: int64(len(c))}, nil
	}
	if m.dirs[p] {
		return memInfo{name: path.Base(p), dir: true}, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: p, Err: fs.ErrNotExist}
}

func (m *memFS) ReadDir(p string) ([]fs.DirEntry, error) {
	m.calls = append(m.calls, "readdir "+p)
	if !m.dirs[p] {
		return nil, &fs.PathError{Op: "readdir", Path: p, Err: fs.ErrNotExist}
	}
	prefix := strings.TrimSuffix(p, "/") + "/"
	seen := map[string]memInfo{}
	for f, c := range m.files {
		if rest, ok := strings.CutPrefix(f, prefix); ok && !strings.Contains(rest, "/") {
			seen[rest] = memInfo{name: rest, size: int64(len(c))}
		}
	}
	for d := range m.dirs {
		if rest, ok := strings.CutPrefix(d, prefix); ok && rest != "" && !strings.Contains(rest, "/") {
			seen[rest] = memInfo{name: rest, dir: true}
		}
	}
	var out []fs.DirEntry
	for _, i := range seen {
		out = append(out, fs.FileInfoToDirEntry(i))
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name() < out[b].Name() })
	return out, nil
}

func (m *memFS) Lookup(p string) (buildplan.FileStat, error) {
	m.calls = append(m.calls, "lookup "+p)
	if st, ok := m.stats[p]; ok {
		return st, nil
	}
	if _, ok := m.files[p]; ok {
		return buildplan.FileStat{Mode: 0o644}, nil
	}
	if m.dirs[p] {
		return buildplan.FileStat{Mode: fs.ModeDir | 0o755}, nil
	}
	return buildplan.FileStat{}, &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
}

func (m *memFS) ReadFile(p string, limit int64) ([]byte, error) {
	m.calls = append(m.calls, "read "+p)
	c, ok := m.files[p]
	if !ok {
		return nil, &fs.PathError{Op: "read", Path: p, Err: fs.ErrNotExist}
	}
	if int64(len(c)) > limit {
		c = c[:limit]
	}
	return []byte(c), nil
}

// memAgent builds an Agent from path -> content (dirs implied by paths,
// extra empty dirs listed with a trailing "/").
func memAgent(source, version, digest string, files map[string]string) buildplan.Agent {
	entries := map[string]buildplan.AgentFile{}
	addDirs := func(p string) {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			entries[d] = buildplan.AgentFile{Path: d, Mode: fs.ModeDir | 0o755}
		}
	}
	content := map[string]string{}
	for p, c := range files {
		if d, ok := strings.CutSuffix(p, "/"); ok {
			entries[d] = buildplan.AgentFile{Path: d, Mode: fs.ModeDir | 0o755}
			addDirs(d)
			continue
		}
		// Modes as a Windows-made zip would give them: the plan must not
		// depend on them.
		entries[p] = buildplan.AgentFile{Path: p, Mode: 0o666, Size: int64(len(c))}
		content[p] = c
		addDirs(p)
	}
	a := buildplan.Agent{Source: source, Version: version, Digest: digest}
	for _, k := range sortedStrings(entries) {
		a.Files = append(a.Files, entries[k])
	}
	a.ReadFile = func(rel string) ([]byte, error) {
		c, ok := content[rel]
		if !ok {
			return nil, fmt.Errorf("%s: %w", rel, fs.ErrNotExist)
		}
		return []byte(c), nil
	}
	return a
}

func sortedStrings[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
