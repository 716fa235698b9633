package agentlayer

import (
	"fmt"
	"io/fs"
	"path"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// specialBits are the mode bits besides the permissions that a tar header
// can carry. Whether they are allowed is the plan's policy, not ours: we
// write what the plan says and only refuse what a tar header cannot say.
const specialBits = fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// checkEntries validates the entries before anything is opened or written,
// so a malformed plan fails fast with the entry named.
func checkEntries(entries []buildplan.LayerEntry) error {
	seen := make(map[string]bool, len(entries))
	for i, e := range entries {
		if !path.IsAbs(e.Path) || path.Clean(e.Path) != e.Path || e.Path == "/" {
			return fmt.Errorf("agent layer entry %d %q: path must be absolute and clean, without a trailing slash", i, e.Path)
		}
		if seen[e.Path] {
			return fmt.Errorf("agent layer entry %q: listed twice", e.Path)
		}
		seen[e.Path] = true
		if e.Mode&^(fs.ModePerm|specialBits) != 0 {
			return fmt.Errorf("agent layer entry %q: mode %v has bits other than permissions (the type goes in Type)", e.Path, e.Mode)
		}
		if e.UID < 0 || e.GID < 0 {
			return fmt.Errorf("agent layer entry %q: negative owner %d:%d", e.Path, e.UID, e.GID)
		}
		switch e.Type {
		case buildplan.TypeDir:
			if e.From != "" || e.Content != nil || e.Link != "" {
				return fmt.Errorf("agent layer entry %q: a directory has no From, Content or Link", e.Path)
			}
		case buildplan.TypeFile:
			if e.Link != "" || (e.From != "" && e.Content != nil) {
				return fmt.Errorf("agent layer entry %q: a file takes exactly one of From or Content", e.Path)
			}
			if e.From == "" && e.Size != 0 && e.Size != int64(len(e.Content)) {
				return fmt.Errorf("agent layer entry %q: Size %d but Content has %d bytes", e.Path, e.Size, len(e.Content))
			}
			if e.Size < 0 {
				return fmt.Errorf("agent layer entry %q: negative size %d", e.Path, e.Size)
			}
		case buildplan.TypeSymlink:
			if e.Link == "" || e.From != "" || e.Content != nil {
				return fmt.Errorf("agent layer entry %q: a symlink takes only Link", e.Path)
			}
		default:
			return fmt.Errorf("agent layer entry %q: unknown type %q", e.Path, e.Type)
		}
	}
	return nil
}

// size is the number of content bytes an entry has in the tar stream.
func size(e buildplan.LayerEntry) int64 {
	switch {
	case e.Type != buildplan.TypeFile:
		return 0
	case e.From != "":
		return e.Size
	default:
		return int64(len(e.Content))
	}
}
