package buildplan

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// This file decides which layers of an image planning need not read. A CI
// build puts a new application layer on the same base every time; the
// base's layers are read once per machine (their file lists are cached by
// digest), but the new layer would be downloaded and unpacked on every
// wrap just to learn that it does not touch /etc/passwd or /opt. Its
// history says so instead: a Dockerfile's COPY or ADD into /app can only
// add files under /app, where nothing planning looks at lives.
//
// The trade-off: this trusts the history an image carries. Every builder
// writes it as the layers are made (BuildKit, Docker's classic builder,
// buildah), and a tool that rewrites layers without it (crane append) leaves
// no COPY entry to trust, so those layers are read. A layer whose history
// lies about where it writes would be planned around as if it did not touch
// the user database, the runtime or the agent's folders.

// ReadRoots are the paths planning may look at in an image for an agent
// installed in one of installDirs: the user database, the runtime's
// binaries and version folders, the C library's folders, and the install
// dirs with every folder above them. A glob stops a path at the folder
// above it.
func ReadRoots(installDirs []string) []string {
	var roots []string
	add := func(p string) {
		if i := strings.IndexAny(p, "*?["); i >= 0 {
			p = path.Dir(p[:i+1])
		}
		roots = append(roots, path.Clean(p))
	}
	add(passwdPath)
	add(groupPath)
	for _, rb := range runtimeBinaries {
		for _, p := range rb.paths {
			add(p)
		}
	}
	for _, vds := range versionDirs {
		for _, vd := range vds {
			add(vd.dir)
		}
	}
	for _, d := range libcDirs {
		add(d)
	}
	for _, d := range installDirs {
		add(d)
	}
	slices.Sort(roots)
	return slices.Compact(roots)
}

// UnreadLayers returns, for the layers of an image (bottom first) that
// need not be read, why: their history entry is a COPY, ADD or WORKDIR
// into a folder that is neither one of roots nor above or below one.
// workdir is the config's, for a relative destination. A history that
// does not match the layers one to one gives nil: nothing is skipped.
func UnreadLayers(history []ocispec.History, layers int, workdir string, roots []string) map[int]string {
	var made []ocispec.History
	for _, h := range history {
		if !h.EmptyLayer {
			made = append(made, h)
		}
	}
	if len(made) != layers {
		return nil
	}
	out := map[int]string{}
	for i, h := range made {
		dest, ok := addsOnlyUnder(h.CreatedBy, workdir)
		if !ok || touchesAny(dest, roots) {
			continue
		}
		out[i] = fmt.Sprintf("its history (%s) writes only at or below %s, where planning reads nothing", shorten(h.CreatedBy, 80), dest)
	}
	return out
}

// addsOnlyUnder parses a history entry of the form Dockerfile builders
// write for a step that only adds files, and returns the folder they go
// to:
//
//	COPY --chown=app app.jar /app/ # buildkit            (BuildKit)
//	COPY ["a b.jar", "/app/"] # buildkit
//	WORKDIR /app                                          (BuildKit: the folder it made)
//	/bin/sh -c #(nop) COPY file:0123… in /app/            (Docker's classic builder)
//
// Anything else (RUN, a destination with a variable, no history) may
// change any file.
func addsOnlyUnder(createdBy, workdir string) (string, bool) {
	s := strings.TrimSpace(createdBy)
	s = strings.TrimSpace(strings.TrimSuffix(s, "# buildkit"))
	classic := strings.HasPrefix(s, "/bin/sh -c #(nop) ")
	s = strings.TrimSpace(strings.TrimPrefix(s, "/bin/sh -c #(nop) "))
	instr, args, _ := strings.Cut(s, " ")
	args = strings.TrimSpace(args)
	var dest string
	switch strings.ToUpper(instr) {
	case "WORKDIR":
		dest = args
	case "COPY", "ADD":
		switch {
		case classic:
			i := strings.LastIndex(args, " in ")
			if i < 0 {
				return "", false
			}
			dest = strings.TrimSpace(args[i+len(" in "):])
		default:
			for strings.HasPrefix(args, "--") { // flags come first
				_, rest, ok := strings.Cut(args, " ")
				if !ok {
					return "", false
				}
				args = strings.TrimSpace(rest)
			}
			if strings.HasPrefix(args, "[") {
				var list []string
				if err := json.Unmarshal([]byte(args), &list); err != nil || len(list) < 2 {
					return "", false
				}
				dest = list[len(list)-1]
			} else {
				fields := strings.Fields(args)
				if len(fields) < 2 {
					return "", false
				}
				dest = fields[len(fields)-1]
			}
		}
	default:
		return "", false
	}
	if dest == "" || strings.ContainsAny(dest, "$*?[\\<") {
		return "", false
	}
	if !path.IsAbs(dest) {
		if !path.IsAbs(workdir) {
			return "", false
		}
		dest = path.Join(workdir, dest)
	}
	return path.Clean(dest), true
}

// touchesAny reports whether files added under dest can change what is at
// one of roots: dest is "/", or it and a root are the same path or one
// holds the other, or a folder above dest holds a root. The last one
// because a COPY makes the folders above its destination that do not
// exist yet, owned as the COPY says (--chown): `COPY --chown=app x
// /opt/x` on a base without /opt makes the /opt that planning would keep.
func touchesAny(dest string, roots []string) bool {
	if dest == "/" {
		return true
	}
	for _, r := range roots {
		if dest == r || strings.HasPrefix(r, dest+"/") || strings.HasPrefix(dest, r+"/") {
			return true
		}
		for p := path.Dir(dest); p != "/"; p = path.Dir(p) {
			if strings.HasPrefix(r, p+"/") {
				return true
			}
		}
	}
	return false
}

func shorten(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
