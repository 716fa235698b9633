package wrapfiles

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/jbuild-dev/jbuild/internal/manifest"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// Manifests are the manifests of one run and the images they name.
type Manifests struct {
	inputs []*input
	images []*image
}

// input is one manifest read from a file (or stdin, path "-").
type input struct {
	path string // as given or found in a directory
	real string // symlinks resolved: what is replaced on write
	mode fs.FileMode
	file *manifest.File
}

// image is one distinct image value found in the manifests.
type image struct {
	value string
	ref   manifest.Ref
	where string // first place it appears, for messages

	src    transport.Store // what is wrapped; nil when left alone
	digest string          // src's digest
	tag    string          // the target's tag, in ref.Repository
	same   *image          // an earlier image with the same source and target

	newVal string // pinned monitored variant; "" when left alone
}

func (im *image) target() string { return im.ref.Repository + ":" + im.tag }

// InputError is a -f that names nothing to read: a wrong command line.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Read reads every spec: a file, a directory (its *.yaml, *.yml and *.json
// files, not recursive, as kubectl apply -f reads one) or "-" for stdin.
// Everything is parsed before anything is wrapped, and manifests that
// name no container image are an error.
func Read(specs []string, stdin io.Reader) (*Manifests, error) {
	inputs, err := readManifests(specs, stdin)
	if err != nil {
		return nil, err
	}
	m := &Manifests{inputs: inputs, images: distinctImages(inputs)}
	if len(m.images) == 0 {
		return nil, fmt.Errorf("no container images in %s (looked for the containers and initContainers of Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs)", strings.Join(specs, ", "))
	}
	return m, nil
}

// ReadsStdin reports whether a manifest came from stdin ("-"): Rewrite
// then writes it back on stdout.
func (m *Manifests) ReadsStdin() bool {
	for _, in := range m.inputs {
		if in.path == "-" {
			return true
		}
	}
	return false
}

func readManifests(specs []string, stdin io.Reader) ([]*input, error) {
	var paths []string
	for _, s := range specs {
		if s == "-" {
			paths = append(paths, s)
			continue
		}
		st, err := os.Stat(s)
		if err != nil {
			return nil, &InputError{fmt.Errorf("-f %s: %w", s, err)}
		}
		if !st.IsDir() {
			paths = append(paths, s)
			continue
		}
		ents, err := os.ReadDir(s)
		if err != nil {
			return nil, err
		}
		n := len(paths)
		for _, e := range ents {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".yaml", ".yml", ".json":
				if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
					paths = append(paths, filepath.Join(s, e.Name()))
				}
			}
		}
		if len(paths) == n {
			return nil, &InputError{fmt.Errorf("-f %s: no .yaml, .yml or .json files in the directory", s)}
		}
	}
	var out []*input
	seen := map[string]bool{}
	for _, p := range paths {
		in := &input{path: p, real: p, mode: 0o644}
		var data []byte
		var err error
		if p == "-" {
			data, err = io.ReadAll(stdin)
		} else {
			if in.real, err = filepath.EvalSymlinks(p); err != nil {
				return nil, err
			}
			if seen[in.real] {
				continue
			}
			seen[in.real] = true
			var st os.FileInfo
			if st, err = os.Stat(in.real); err != nil {
				return nil, err
			}
			in.mode = st.Mode().Perm()
			data, err = os.ReadFile(in.real)
		}
		if err != nil {
			return nil, err
		}
		if in.file, err = manifest.Parse(p, data); err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// distinctImages lists every image value once, in order of appearance.
func distinctImages(inputs []*input) []*image {
	var images []*image
	seen := map[string]bool{}
	for _, in := range inputs {
		for _, im := range in.file.Images {
			if seen[im.Value] {
				continue
			}
			seen[im.Value] = true
			images = append(images, &image{
				value: im.Value,
				ref:   manifest.SplitRef(im.Value),
				where: fmt.Sprintf("%s:%d %s", in.path, im.Line, im.Where()),
			})
		}
	}
	return images
}
