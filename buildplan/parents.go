package buildplan

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/jbuild-dev/jbuild/internal/rootpath"
)

// This file keeps the base image's own folders as they are. The agent layer
// carries the parents of the install dir (/opt, /opt/jennifer) as root-owned
// 0755 folders, the same in every image so the layer is byte-identical
// everywhere. A layer's folder entry replaces the metadata of the folder
// below it, and a folder written over a symlink replaces the symlink, so
// without this a base whose /opt/jennifer belongs to the app user would lose
// write access there, and a base whose /opt is a symlink to /srv would get a
// real /opt and lose everything the symlink showed.
//
// The answer keeps the agent layer as it is and puts the difference in the
// per-image settings layer on top: each parent the base already has is
// written again there with the base's owner and mode. A symlinked parent is
// followed inside the image root, so the agent goes where the link points
// (then the agent layer does depend on the image, for that image only).

// FileStat is what ImageFS.Lookup says of one path.
type FileStat struct {
	Mode     fs.FileMode // type and permission bits
	UID, GID int
	Link     string // the target of a symlink, as stored
}

// installParents resolves dir in the image: the path it really names (every
// symlink on the way followed inside the image root), the parents above it
// that the image already has, with their owner and mode, and a note per
// symlink followed. A parent that is neither a folder nor a symlink is
// refused: the agent cannot be installed below a file.
func installParents(img Image, dir string, n Namer) (string, []LayerEntry, []string, error) {
	fsys := img.FS
	cur := "/"
	rest := splitPath(dir)
	var parents []LayerEntry
	var notes []string
	seen := map[string]bool{}
	hops := 0
	for len(rest) > 0 {
		next := path.Join(cur, rest[0])
		rest = rest[1:]
		st, err := fsys.Lookup(next)
		if errors.Is(err, fs.ErrNotExist) {
			return path.Join(append([]string{next}, rest...)...), parents, notes, nil
		}
		if err != nil {
			return "", nil, nil, fmt.Errorf("reading %s in the image: %w", next, err)
		}
		switch {
		case st.Mode&fs.ModeSymlink != 0:
			if hops++; hops > rootpath.MaxHops {
				return "", nil, nil, refuse(img, "fix the symlinks of the image", "%s: too many levels of symbolic links on the way to the agent's folder %s", next, dir)
			}
			target := st.Link
			if !path.IsAbs(target) {
				target = path.Join(cur, target)
			}
			target = path.Clean("/" + target) // ".." stops at the image root, as in a container
			notes = append(notes, fmt.Sprintf("files: %s is a symlink to %s", next, target))
			rest = append(splitPath(target), rest...)
			cur = "/"
		case st.Mode.IsDir():
			if len(rest) > 0 && !seen[next] { // a parent, not the install dir itself
				seen[next] = true
				parents = append(parents, LayerEntry{Path: next, Type: TypeDir, Mode: st.Mode & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky), UID: st.UID, GID: st.GID})
			}
			cur = next
		default:
			return "", nil, nil, refuse(img, "pick another installDir in a profile of your own ("+n.Give(OptProfileFile, "FILE")+")",
				"%s is a file in the image, and the agent's folder %s must go below it", next, dir)
		}
	}
	return cur, parents, notes, nil
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}

// keepParents returns the settings entries that give the base's own parent
// folders their owner and mode back over the agent layer's: only those that
// differ from the agent layer's entry for the same path.
func keepParents(parents []LayerEntry, agentLayer []LayerEntry) []LayerEntry {
	have := make(map[string]LayerEntry, len(agentLayer))
	for _, e := range agentLayer {
		have[e.Path] = e
	}
	var out []LayerEntry
	for _, p := range parents {
		a, ok := have[p.Path]
		if !ok || sameEntry(a, p) {
			continue // the agent layer does not touch it, or leaves it as it is
		}
		out = append(out, p)
	}
	return out
}
