package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/manifest"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
)

// wrapFilesFlags are the flags of `wrap -f`.
type wrapFilesFlags struct {
	files     []string
	kustomize bool
}

// manifestInput is one manifest read from a file (or stdin, path "-").
type manifestInput struct {
	path string // as given or found in a directory
	real string // symlinks resolved: what is replaced on write
	mode os.FileMode
	file *manifest.File
}

// imageJob is one distinct image value found in the manifests.
type imageJob struct {
	value string
	ref   manifest.Ref
	where string // first place it appears, for messages

	src    transport.Store // what is wrapped; nil when left alone
	digest string          // src's digest
	tag    string          // the target's tag, in ref.Repository
	same   *imageJob       // an earlier job with the same source and target

	newVal string // pinned monitored variant; "" when left alone
}

func (j *imageJob) target() string { return j.ref.Repository + ":" + j.tag }

// runWrapFiles is `wrap -f MANIFEST...`: every distinct image in the
// manifests is wrapped once, and only when all of them succeeded (or were
// left alone because they cannot be monitored) are the files rewritten, so
// a failing wrap leaves every file as it was.
func runWrapFiles(ctx context.Context, g *globalFlags, pf *planFlags, wf *wrapFilesFlags, dryRun, force bool, stdout, stderr io.Writer) error {
	inputs, err := readManifests(wf.files)
	if err != nil {
		return err
	}
	jobs := distinctImages(inputs)
	if len(jobs) == 0 {
		return fmt.Errorf("no container images in %s (looked for the containers and initContainers of Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs)", strings.Join(wf.files, ", "))
	}
	notef := func(format string, a ...any) {
		if !g.quiet {
			fmt.Fprintf(stderr, "note: "+format+"\n", a...)
		}
	}
	stores := storeOptions(g)
	opts, err := pf.options(ctx, g, stores)
	if err != nil {
		return err
	}
	opts.Force = force
	opts.Notef = notef
	for _, j := range jobs {
		if err := resolveJob(ctx, g, j, stores, notef); err != nil {
			return fmt.Errorf("%s (%s): %w; no manifest was changed", j.value, j.where, err)
		}
	}
	if err := sameTargets(jobs); err != nil {
		return err
	}
	// With the manifests on stdin, stdout carries them back, and with
	// --kustomize the patch; the wrapped references go to stderr then.
	refsOut := stdout
	for _, in := range inputs {
		if in.path == "-" || wf.kustomize {
			refsOut = stderr
		}
	}
	for _, j := range jobs {
		if err := wrapJob(ctx, g, j, opts, stores, dryRun, refsOut, stderr, notef); err != nil {
			return fmt.Errorf("%s (%s): %w; no manifest was changed", j.value, j.where, err)
		}
	}
	if dryRun {
		return printDryRun(stdout, inputs, jobs, wf.kustomize)
	}
	if wf.kustomize {
		return printKustomize(stdout, jobs)
	}
	return rewriteManifests(inputs, jobs, stdout, stderr, g.quiet)
}

// resolveJob reads the image a manifest names and decides its target:
// tag + "-jennifer" in the same repository, or for a jbuild output its own
// tag (an agent upgrade in place). Images that carry the agent already
// without a way to upgrade them, or that have no tag to derive a target
// from, are left alone with a note (j.src stays nil).
func resolveJob(ctx context.Context, g *globalFlags, j *imageJob, stores transport.Options, notef func(string, ...any)) error {
	r, err := transport.Parse(j.value)
	if err != nil || r.Kind != transport.KindRegistry {
		notef("%s (%s) left alone: not a registry image reference", j.value, j.where)
		return nil
	}
	srcSpec := j.value
	if j.ref.Digest != "" {
		// What the cluster runs is the digest, whatever the tag says now...
		srcSpec = j.ref.Repository + "@" + j.ref.Digest
		if j.ref.Tag != "" {
			// ...but when the tag still names it, wrap it by its tag, so
			// that REPO:TAG and REPO:TAG@DIGEST give the same image.
			if d, err := storeDigest(ctx, g, j.ref.Repository+":"+j.ref.Tag, stores); err == nil && d == j.ref.Digest {
				srcSpec = j.ref.Repository + ":" + j.ref.Tag
			}
		}
	}
	src, err := openStore(g, srcSpec, stores)
	if err != nil {
		return err
	}
	a, err := src.Get(ctx)
	if err != nil {
		return err
	}
	d, err := a.Digest()
	if err != nil {
		return err
	}
	labels, err := artifactLabels(a)
	if err != nil {
		return fmt.Errorf("reading %s: %w", srcSpec, err)
	}
	tag := j.ref.Tag
	switch {
	case labels[buildplan.LabelVersion] != "" && labels[buildplan.LabelBaseDigest] == "":
		notef("%s (%s) left alone: it already carries the agent (built with the jbuild frontend)", j.value, j.where)
		return nil
	case labels[buildplan.LabelVersion] != "":
		// A jbuild output: wrapping it again upgrades its agent in place,
		// under the tag the manifest names.
		if tag == "" {
			notef("%s (%s) left alone: already monitored, and pinned by digest with no tag to upgrade in place", j.value, j.where)
			return nil
		}
	case tag == "" && j.ref.Digest != "":
		notef("%s (%s) left alone: pinned by digest with no tag to derive the monitored variant's tag from; wrap it with jbuild wrap IMAGE -t TARGET", j.value, j.where)
		return nil
	case tag == "":
		tag = "latest" + targetSuffix
	default:
		tag += targetSuffix
	}
	j.src, j.digest, j.tag = src, d.String(), tag
	return nil
}

func storeDigest(ctx context.Context, g *globalFlags, spec string, stores transport.Options) (string, error) {
	st, err := openStore(g, spec, stores)
	if err != nil {
		return "", err
	}
	a, err := st.Get(ctx)
	if err != nil {
		return "", err
	}
	d, err := a.Digest()
	return d.String(), err
}

// sameTargets links jobs that wrap the same image to the same target (one
// wrap for both), and refuses two different images that would both be
// written to one tag.
func sameTargets(jobs []*imageJob) error {
	first := map[string]*imageJob{}
	for _, j := range jobs {
		if j.src == nil {
			continue
		}
		p, ok := first[j.target()]
		if !ok {
			first[j.target()] = j
			continue
		}
		if p.digest != j.digest {
			return fmt.Errorf("%s (%s) and %s (%s) are different images (%s, %s) that would both be wrapped to %s; make the manifests name one of them, or wrap them separately with jbuild wrap IMAGE -t TARGET; no manifest was changed",
				p.value, p.where, j.value, j.where, p.digest, j.digest, j.target())
		}
		j.same = p
	}
	return nil
}

// wrapJob wraps one image (or plans it with dryRun) and sets j.newVal.
// Images that cannot be monitored are left alone with a note.
func wrapJob(ctx context.Context, g *globalFlags, j *imageJob, opts wrap.Options, stores transport.Options, dryRun bool, refsOut, stderr io.Writer, notef func(string, ...any)) error {
	if j.src == nil {
		return nil
	}
	if j.same != nil {
		j.newVal = j.same.newVal
		return nil
	}
	if dryRun {
		if _, err := wrap.Plan(ctx, j.src, opts); err != nil {
			if refusal(err) {
				notef("%s (%s) left alone: %v", j.value, j.where, err)
				return nil
			}
			return err
		}
		j.newVal = j.target() + "@sha256:…"
		return nil
	}
	prog := newProgress(os.Stderr, g.quiet)
	stores.Registry.Progress = prog.updates()
	dst, err := openStore(g, j.target(), stores)
	if err != nil {
		prog.done()
		return err
	}
	res, err := wrap.Wrap(ctx, j.src, dst, opts)
	prog.done()
	if err != nil {
		if refusal(err) {
			notef("%s (%s) left alone: %v", j.value, j.where, err)
			return nil
		}
		return err
	}
	j.newVal = manifest.Ref{Repository: j.ref.Repository, Tag: j.tag, Digest: res.TargetDigest}.String()
	return printWrapResult(refsOut, stderr, res, g.quiet)
}

func refusal(err error) bool {
	var re *buildplan.RefusalError
	return errors.As(err, &re)
}

// artifactLabels are an image's config labels or an index's annotations,
// where jbuild records that an image is its output.
func artifactLabels(a *transport.Artifact) (map[string]string, error) {
	if a.Index != nil {
		im, err := a.Index.IndexManifest()
		if err != nil {
			return nil, err
		}
		return im.Annotations, nil
	}
	cf, err := a.Image.ConfigFile()
	if err != nil {
		return nil, err
	}
	return cf.Config.Labels, nil
}

// readManifests reads every -f: a file, a directory (its *.yaml, *.yml and
// *.json files, not recursive, as kubectl apply -f reads one) or "-" for
// stdin. Everything is parsed before anything is wrapped.
func readManifests(specs []string) ([]*manifestInput, error) {
	var paths []string
	for _, s := range specs {
		if s == "-" {
			paths = append(paths, s)
			continue
		}
		st, err := os.Stat(s)
		if err != nil {
			return nil, usageError{fmt.Errorf("-f %s: %w", s, err)}
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
			return nil, usageError{fmt.Errorf("-f %s: no .yaml, .yml or .json files in the directory", s)}
		}
	}
	var out []*manifestInput
	seen := map[string]bool{}
	for _, p := range paths {
		in := &manifestInput{path: p, real: p, mode: 0o644}
		var data []byte
		var err error
		if p == "-" {
			data, err = io.ReadAll(os.Stdin)
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
func distinctImages(inputs []*manifestInput) []*imageJob {
	var jobs []*imageJob
	seen := map[string]bool{}
	for _, in := range inputs {
		for _, im := range in.file.Images {
			if seen[im.Value] {
				continue
			}
			seen[im.Value] = true
			jobs = append(jobs, &imageJob{
				value: im.Value,
				ref:   manifest.SplitRef(im.Value),
				where: fmt.Sprintf("%s:%d %s", in.path, im.Line, im.Where()),
			})
		}
	}
	return jobs
}

func replacements(jobs []*imageJob) map[string]string {
	m := map[string]string{}
	for _, j := range jobs {
		if j.newVal != "" {
			m[j.value] = j.newVal
		}
	}
	return m
}

func printDryRun(w io.Writer, inputs []*manifestInput, jobs []*imageJob, kustomize bool) error {
	repl := replacements(jobs)
	if kustomize {
		fmt.Fprintln(w, "would print a kustomize images: patch for:")
	}
	n := 0
	for _, in := range inputs {
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

func printKustomize(w io.Writer, jobs []*imageJob) error {
	var ims []manifest.KustomizeImage
	for _, j := range jobs {
		if j.newVal == "" {
			continue
		}
		nr := manifest.SplitRef(j.newVal)
		ims = append(ims, manifest.KustomizeImage{Name: j.ref.Repository, NewName: nr.Repository, NewTag: nr.Tag, Digest: nr.Digest})
	}
	out, err := manifest.Kustomize(ims)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// rewriteManifests writes every changed file through a temporary file in
// its directory and a rename, so a file is either the old one or the new
// one, never half written. All temporary files are written before the
// first rename.
func rewriteManifests(inputs []*manifestInput, jobs []*imageJob, stdout, stderr io.Writer, quiet bool) error {
	repl := replacements(jobs)
	type pending struct {
		in  *manifestInput
		tmp string
		n   int
	}
	var todo []pending
	cleanup := func() {
		for _, p := range todo {
			os.Remove(p.tmp)
		}
	}
	for _, in := range inputs {
		out, n, err := in.file.Rewrite(repl)
		if err != nil {
			cleanup()
			return err
		}
		if in.path == "-" {
			if _, err := stdout.Write(out); err != nil {
				cleanup()
				return err
			}
			continue
		}
		if n == 0 {
			continue
		}
		tmp, err := writeTemp(in.real, out, in.mode)
		if err != nil {
			cleanup()
			return fmt.Errorf("writing %s: %w; no manifest was changed", in.path, err)
		}
		todo = append(todo, pending{in, tmp, n})
	}
	sort.SliceStable(todo, func(i, j int) bool { return todo[i].in.path < todo[j].in.path })
	for i, p := range todo {
		if err := os.Rename(p.tmp, p.in.real); err != nil {
			for _, q := range todo[i:] {
				os.Remove(q.tmp)
			}
			return fmt.Errorf("replacing %s: %w", p.in.path, err)
		}
		if !quiet {
			fmt.Fprintf(stderr, "updated %s (%d image fields)\n", p.in.path, p.n)
		}
	}
	return nil
}

func writeTemp(path string, data []byte, mode os.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".jbuild-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
