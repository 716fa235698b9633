package frontend

import (
	"os"
	"path"
	"strings"
	"time"

	"github.com/moby/buildkit/client/llb"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// layerState writes plan entries onto scratch as one FileOp, which BuildKit
// exports as one layer. Files come from src (the agent's folder srcDir);
// generated content and directories are made in place. Owners and modes
// are the plan's, and every entry gets the fixed epoch, so the layer does not
// depend on when it was built.
//
// linksOf, when set, is the image folder srcDir's files go to (the install
// dir), for a builder that cannot make symbolic links (no
// file.symlink.create: BuildKit before v0.19, Docker Engine 20.10 to
// 27.x): the agent's links under it are copied from srcDir, where they are
// links too, as BuildKit's Dockerfile frontend copies a COPY's links.
func layerState(name string, entries []buildplan.LayerEntry, src llb.State, srcDir string, epoch time.Time, linksOf string) llb.State {
	// A chain of actions in one FileOp: fa.Mkdir(...).Copy(...)...; the
	// first action starts the chain.
	var fa *llb.FileAction
	created := llb.WithCreatedTime(epoch)
	// Every entry's missing parents are made first, root-owned 0755 as the
	// agent layer has them: Mkfile and Symlink need their parent (a settings
	// layer can hold a generated file whose folder only the agent layer
	// has: PHP's jennifer.conf at the agent root), and Mkdir with parents
	// would give them the entry's owner and mode (a writable dir owned by
	// the image's user would hand it the agent folder above it too).
	made := map[string]bool{"/": true}
	parent := func(p string) {
		d := path.Dir(p)
		if !made[d] {
			fa = chain(fa).Mkdir(d, 0o755, llb.WithParents(true), llb.WithUIDGID(0, 0), created)
		}
		for ; !made[d]; d = path.Dir(d) {
			made[d] = true
		}
	}
	for _, e := range entries {
		owner := llb.WithUIDGID(e.UID, e.GID)
		switch {
		case e.Type == buildplan.TypeDir:
			parent(e.Path)
			fa = chain(fa).Mkdir(e.Path, e.Mode, llb.WithParents(true), owner, created)
			for d := e.Path; !made[d]; d = path.Dir(d) {
				made[d] = true
			}
		case e.Type == buildplan.TypeSymlink && linksOf != "" && strings.HasPrefix(e.Path, linksOf+"/"):
			parent(e.Path)
			t := epoch
			fa = chain(fa).Copy(src, path.Join(srcDir, strings.TrimPrefix(e.Path, linksOf+"/")), e.Path, &llb.CopyInfo{
				ChownOpt:       &llb.ChownOpt{User: &llb.UserOpt{UID: e.UID}, Group: &llb.UserOpt{UID: e.GID}},
				CreatedTime:    &t,
				CreateDestPath: true,
			})
		case e.Type == buildplan.TypeSymlink:
			parent(e.Path)
			fa = chain(fa).Symlink(e.Link, e.Path, owner, created)
		case e.Type == buildplan.TypeFile && e.From == "":
			parent(e.Path)
			fa = chain(fa).Mkfile(e.Path, e.Mode, e.Content, owner, created)
		case e.Type == buildplan.TypeFile:
			parent(e.Path)
			t := epoch
			fa = chain(fa).Copy(src, path.Join(srcDir, e.From), e.Path, &llb.CopyInfo{
				Mode:           &llb.ChmodOpt{Mode: e.Mode},
				ChownOpt:       &llb.ChownOpt{User: &llb.UserOpt{UID: e.UID}, Group: &llb.UserOpt{UID: e.GID}},
				CreatedTime:    &t,
				CreateDestPath: true,
			})
		}
	}
	if fa == nil {
		return llb.Scratch()
	}
	return llb.Scratch().File(fa, llb.WithCustomName("[jbuild] "+name))
}

// chain lets the first action start a FileOp chain: a nil *FileAction's
// methods are the package-level constructors.
type starter struct{}

func (starter) Mkdir(p string, m os.FileMode, o ...llb.MkdirOption) *llb.FileAction {
	return llb.Mkdir(p, m, o...)
}
func (starter) Mkfile(p string, m os.FileMode, dt []byte, o ...llb.MkfileOption) *llb.FileAction {
	return llb.Mkfile(p, m, dt, o...)
}
func (starter) Symlink(oldpath, newpath string, o ...llb.SymlinkOption) *llb.FileAction {
	return llb.Symlink(oldpath, newpath, o...)
}
func (starter) Copy(in llb.CopyInput, src, dest string, o ...llb.CopyOption) *llb.FileAction {
	return llb.Copy(in, src, dest, o...)
}

type fileActions interface {
	Mkdir(p string, m os.FileMode, o ...llb.MkdirOption) *llb.FileAction
	Mkfile(p string, m os.FileMode, dt []byte, o ...llb.MkfileOption) *llb.FileAction
	Symlink(oldpath, newpath string, o ...llb.SymlinkOption) *llb.FileAction
	Copy(in llb.CopyInput, src, dest string, o ...llb.CopyOption) *llb.FileAction
}

func chain(fa *llb.FileAction) fileActions {
	if fa == nil {
		return starter{}
	}
	return fa
}
