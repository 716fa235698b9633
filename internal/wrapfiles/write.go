package wrapfiles

import (
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"

	"github.com/jbuild-dev/jbuild/internal/atomicfile"
	"github.com/jbuild-dev/jbuild/internal/manifest"
)

func (m *Manifests) replacements() map[string]string {
	r := map[string]string{}
	for _, im := range m.images {
		if im.newVal != "" {
			r[im.value] = im.newVal
		}
	}
	return r
}

// PrintDryRun lists every image field that would change (after a Wrap
// with DryRun), or what the kustomize patch would cover.
func (m *Manifests) PrintDryRun(w io.Writer, kustomize bool) error {
	repl := m.replacements()
	if kustomize {
		fmt.Fprintln(w, "would print a kustomize images: patch for:")
	}
	n := 0
	for _, in := range m.inputs {
		for _, im := range in.file.Images {
			if nv, ok := repl[im.Value]; ok {
				fmt.Fprintf(w, "%s:%d %s: %s -> %s\n", in.path, im.Line, im.Where(), im.Value, nv)
				n++
			}
		}
	}
	if n == 0 {
		fmt.Fprintln(w, "nothing to change")
	}
	return nil
}

// PrintKustomize writes a kustomize images: patch that makes the images
// the monitored variants, instead of editing the manifests.
func (m *Manifests) PrintKustomize(w io.Writer) error {
	var ims []manifest.KustomizeImage
	for _, im := range m.images {
		if im.newVal == "" {
			continue
		}
		nr := manifest.SplitRef(im.newVal)
		ims = append(ims, manifest.KustomizeImage{Name: im.ref.Repository, NewName: nr.Repository, NewTag: nr.Tag, Digest: nr.Digest})
	}
	out, err := manifest.Kustomize(ims)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// Rewrite writes the manifests with the wrapped images: a manifest read
// from stdin to stdout, and every changed file replaced whole
// (atomicfile) with its mode kept, so a file is either the old one or the
// new one, never half written. All files are written aside before the
// first is renamed into place, so an error while writing (a full disk)
// changes none of them.
func (m *Manifests) Rewrite(stdout, stderr io.Writer, quiet bool) error {
	repl := m.replacements()
	type pending struct {
		in *input
		f  *atomicfile.File
		n  int
	}
	var todo []pending
	defer func() {
		for _, p := range todo {
			p.f.Discard() // no-op once renamed
		}
	}()
	for _, in := range m.inputs {
		out, n, err := in.file.Rewrite(repl)
		if err != nil {
			return err
		}
		if in.path == "-" {
			if _, err := stdout.Write(out); err != nil {
				return err
			}
			continue
		}
		if n == 0 {
			continue
		}
		f, err := writeAside(in.real, out, in.mode)
		if err != nil {
			return fmt.Errorf("writing %s: %w; no manifest was changed", in.path, err)
		}
		todo = append(todo, pending{in, f, n})
	}
	sort.SliceStable(todo, func(i, j int) bool { return todo[i].in.path < todo[j].in.path })
	for _, p := range todo {
		if err := p.f.Commit(); err != nil {
			return fmt.Errorf("replacing %s: %w", p.in.path, err)
		}
		if !quiet {
			fmt.Fprintf(stderr, "updated %s (%d image fields)\n", p.in.path, p.n)
		}
	}
	return nil
}

// writeAside writes data to a complete temporary file beside path
// (.NAME.jbuild-<digits>), not yet renamed into place.
func writeAside(path string, data []byte, mode fs.FileMode) (*atomicfile.File, error) {
	f, err := atomicfile.Create(path, mode, atomicfile.ExactPerm(), atomicfile.TempPattern("."+filepath.Base(path)+".jbuild-*"))
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(data); err != nil {
		f.Discard()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return f, nil
}
