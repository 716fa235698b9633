package agent

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the checks every archive goes through, whatever its
// format: agent archives come from a server or a colleague, and the agent
// layer ends up in production images, so anything that could write outside
// the agent folder or smuggle privileges in is refused outright rather than
// "fixed" silently.

// Linux's PATH_MAX and NAME_MAX: a longer name cannot be created when the
// image is unpacked, so the image would fail on every node that pulls it.
const (
	maxNameLen      = 4096
	maxComponentLen = 255
)

// Messages say what is read in the user's terms: the same checks run on
// archives (and agent images, read as tar layers) and on agent folders, and
// "agent archive ./agent.java" sends the user looking for a file that does
// not exist. The Folder variants below are the folder's.
const (
	kindArchive = "archive"
	kindFolder  = "folder"
)

// cleanName turns an archive member name into a clean bundle-relative path
// ("" for the archive's own root, "./" or "."). It refuses absolute paths,
// ".." components, backslashes (a Windows path in disguise), NUL bytes and
// other control characters, names that are not UTF-8 and over-long names.
func cleanName(archive, name string) (string, error) {
	return cleanEntry(kindArchive, archive, name)
}

// cleanFolderName is cleanName for a file of an agent folder.
func cleanFolderName(dir, name string) (string, error) {
	return cleanEntry(kindFolder, dir, name)
}

func cleanEntry(kind, archive, name string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("reading agent %s %s: entry %q: %s; the %s is unsafe, get a fresh copy of the agent", kind, archive, name, why, kind)
	}
	switch {
	case name == "":
		return bad("empty name")
	case strings.ContainsRune(name, 0):
		return bad("NUL byte in the name")
	case strings.Contains(name, `\`):
		return bad(`backslash in the name (Windows path)`)
	case strings.HasPrefix(name, "/"):
		return bad("absolute path")
	case len(name) > maxNameLen:
		return bad(fmt.Sprintf("name is %d bytes long; paths in an image are at most %d", len(name), maxNameLen))
	case !utf8.ValidString(name):
		// An image layer's PAX path and the plan's JSON are UTF-8: the file
		// would get another name than the one checked here.
		return bad("name is not valid UTF-8")
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return bad("control character (newline, escape...) in the name")
	}
	for _, c := range strings.Split(name, "/") {
		if c == ".." {
			return bad(`".." component escapes the agent folder`)
		}
		if len(c) > maxComponentLen {
			return bad(fmt.Sprintf("a path component is %d bytes long; file systems allow %d", len(c), maxComponentLen))
		}
		// In an image layer a ".wh." name deletes files of the layers below:
		// an agent file must never turn into one.
		if strings.HasPrefix(c, ".wh.") {
			return bad(`".wh." names are layer whiteouts, not agent files`)
		}
	}
	n := path.Clean(name)
	if n == "." {
		return "", nil
	}
	return n, nil
}

// checkMode refuses what has no place in an agent folder: devices, fifos,
// sockets and setuid/setgid files (an agent never needs privileges, and a
// setuid binary in an image is a privilege escalation waiting to happen).
func checkMode(archive, name string, m fs.FileMode) error {
	return checkEntryMode(kindArchive, archive, name, m)
}

// checkFolderMode is checkMode for a file of an agent folder.
func checkFolderMode(dir, name string, m fs.FileMode) error {
	return checkEntryMode(kindFolder, dir, name, m)
}

func checkEntryMode(kind, archive, name string, m fs.FileMode) error {
	switch {
	case m&(fs.ModeDevice|fs.ModeCharDevice) != 0:
		return fmt.Errorf("reading agent %s %s: entry %q: device files are not allowed in an agent", kind, archive, name)
	case m&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeIrregular) != 0:
		return fmt.Errorf("reading agent %s %s: entry %q: fifos, sockets and other special files are not allowed in an agent", kind, archive, name)
	case m&(fs.ModeSetuid|fs.ModeSetgid) != 0:
		return fmt.Errorf("reading agent %s %s: entry %q: setuid/setgid bit set (mode %v); an agent needs no privileges", kind, archive, name, m)
	}
	return nil
}

// checkLink refuses a symlink whose target is absolute or leaves the agent
// folder. ".." is only allowed as leading components ("../lib/x.so"): after
// a folder name it could climb out of a symlinked folder that lexically
// looks inside ("s/../.." with s -> ".").
func checkLink(archive, name, target string) error {
	return checkEntryLink(kindArchive, archive, name, target)
}

// checkFolderLink is checkLink for a symlink of an agent folder.
func checkFolderLink(dir, name, target string) error {
	return checkEntryLink(kindFolder, dir, name, target)
}

func checkEntryLink(kind, archive, name, target string) error {
	bad := func(why string) error {
		return fmt.Errorf("reading agent %s %s: entry %q: symlink to %q %s", kind, archive, name, target, why)
	}
	if target == "" {
		return bad("has an empty target")
	}
	if strings.HasPrefix(target, "/") {
		return bad("is absolute; links must be relative and stay inside the agent folder")
	}
	if strings.ContainsRune(target, 0) || strings.Contains(target, `\`) {
		return bad("has a NUL byte or backslash")
	}
	if len(target) > maxNameLen || !utf8.ValidString(target) || strings.IndexFunc(target, unicode.IsControl) >= 0 {
		return bad("is over-long, not UTF-8 or has control characters")
	}
	seenName := false
	for _, c := range strings.Split(target, "/") {
		switch c {
		case "", ".":
		case "..":
			if seenName {
				return bad(`has ".." after a folder name; write the link without it`)
			}
		default:
			seenName = true
		}
	}
	resolved := path.Join(path.Dir(name), target)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return bad("points outside the agent folder")
	}
	return nil
}

// limits counts entries and expanded bytes of one archive against the
// options, so a zip bomb is refused at the first entry past the limit,
// before it is expanded.
type limits struct {
	kind       string
	archive    string
	maxSize    int64
	maxEntries int
	size       int64
	entries    int
}

func newLimits(archive string, o Options) *limits {
	return &limits{kind: kindArchive, archive: archive, maxSize: o.MaxExpandedSize, maxEntries: o.MaxEntries}
}

// newFolderLimits is newLimits for an agent folder: a folder can be a
// bomb too (a hard-linked or sparse tree, a wrong folder given).
func newFolderLimits(dir string, o Options) *limits {
	l := newLimits(dir, o)
	l.kind = kindFolder
	return l
}

// LimitError is an agent archive or folder past a limit of Options
// (MaxEntries, MaxExpandedSize). Its message says which and where; a caller
// whose user can raise the limit adds how (the CLI names its flag), which
// this package cannot know.
type LimitError struct {
	// Entries is set when MaxEntries was passed, else MaxExpandedSize.
	Entries bool
	msg     string
}

func (e *LimitError) Error() string { return e.msg }

func (l *limits) add(name string, size int64) error {
	l.entries++
	if l.entries > l.maxEntries {
		return &LimitError{Entries: true, msg: fmt.Sprintf("reading agent %s %s: entry %q: more than %d entries; this is not an agent", l.kind, l.archive, name, l.maxEntries)}
	}
	if size < 0 {
		return fmt.Errorf("reading agent %s %s: entry %q: negative size", l.kind, l.archive, name)
	}
	l.size += size
	if l.size > l.maxSize || l.size < 0 {
		if l.kind == kindFolder {
			return &LimitError{msg: fmt.Sprintf("reading agent folder %s: entry %q: the folder holds more than %d bytes; this is not an agent folder", l.archive, name, l.maxSize)}
		}
		return &LimitError{msg: fmt.Sprintf("reading agent %s %s: entry %q: archive expands past %d bytes (zip bomb?); refusing to unpack it", l.kind, l.archive, name, l.maxSize)}
	}
	return nil
}
