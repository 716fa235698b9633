package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// LabelIndex carries an agent image's file list and the small text files a
// plan reads (the profiles' config and version files) as JSON. A reader that
// sees the image through BuildKit (the frontend) plans from the config
// alone: the layer is neither pulled nor unpacked unless it is exported to a
// registry that lacks it. The files' digest is in
// buildplan.LabelAgentDigest. Buildpacks keep their layer metadata in image
// labels the same way.
const LabelIndex = "io.jbuild.agent.index"

// indexTextMax bounds each text file the index carries: config and version
// files are a few KiB; anything larger is read from the layer on demand.
const indexTextMax = 64 << 10

// index is the JSON form of LabelIndex.
type index struct {
	Files []buildplan.AgentFile `json:"files"`
	// Text maps bundle-relative paths to the content of those files.
	Text map[string]string `json:"text,omitempty"`
}

// IndexLabel is the LabelIndex value for b, with the content of the files
// among texts (bundle-relative paths) that b has as small regular files.
func IndexLabel(b *Bundle, texts []string) (string, error) {
	ix := index{Files: b.Files, Text: map[string]string{}}
	for _, rel := range texts {
		f, ok := findFile(b.Files, rel)
		if !ok || !f.Mode.IsRegular() || f.Size > indexTextMax {
			continue
		}
		rc, err := b.Open(rel)
		if err != nil {
			return "", fmt.Errorf("reading %s of agent %s: %w", rel, b.Source, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, indexTextMax+1))
		rc.Close()
		if err != nil {
			return "", fmt.Errorf("reading %s of agent %s: %w", rel, b.Source, err)
		}
		ix.Text[rel] = string(data)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ix); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// BundleFromIndex makes the bundle of an agent image from its LabelIndex
// value and digest label, with the same checks as reading the files
// themselves. Files the index has no text for are read with open (from the
// layer, on demand). what names the image in messages and is the bundle's
// source.
func BundleFromIndex(label, digest, what, name, version string, open func(rel string) (io.ReadCloser, error)) (*Bundle, error) {
	var ix index
	dec := json.NewDecoder(strings.NewReader(label))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ix); err != nil {
		return nil, fmt.Errorf("%s: label %s: %w (push the agent again with `jbuild agent push`)", what, LabelIndex, err)
	}
	if !strings.HasPrefix(digest, "sha256:") {
		return nil, fmt.Errorf("%s: label %s has no %s digest beside it (push the agent again with `jbuild agent push`)", what, LabelIndex, buildplan.LabelAgentDigest)
	}
	opts, err := Options{}.withDefaults()
	if err != nil {
		return nil, err
	}
	lim := newLimits(what, opts)
	raw := make([]*entry, 0, len(ix.Files))
	for _, f := range ix.Files {
		rel, err := cleanName(what, strings.TrimSuffix(f.Path, "/"))
		if err != nil {
			return nil, err
		}
		if rel == "" {
			return nil, fmt.Errorf("%s: label %s lists the agent folder itself", what, LabelIndex)
		}
		if err := checkMode(what, rel, f.Mode); err != nil {
			return nil, err
		}
		if f.Mode.Type()&^(fs.ModeDir|fs.ModeSymlink) != 0 {
			return nil, fmt.Errorf("%s: label %s: %q has unsupported file type %v", what, LabelIndex, rel, f.Mode.Type())
		}
		if err := lim.add(rel, f.Size); err != nil {
			return nil, err
		}
		if t, ok := ix.Text[rel]; ok && int64(len(t)) != f.Size {
			return nil, fmt.Errorf("%s: label %s: the text of %q has %d bytes, the file %d (push the agent again with `jbuild agent push`)", what, LabelIndex, rel, len(t), f.Size)
		}
		e := &entry{name: rel, mode: f.Mode.Type() | f.Mode.Perm(), size: f.Size, link: f.Link}
		if e.mode.IsRegular() {
			e.open = func() (io.ReadCloser, error) {
				if t, ok := ix.Text[rel]; ok {
					return io.NopCloser(strings.NewReader(t)), nil
				}
				return open(rel)
			}
		}
		raw = append(raw, e)
	}
	files, _, err := assemble(what, raw, "", false, nil)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: label %s lists no files", what, LabelIndex)
	}
	b := newBundle(what, name, version, files)
	b.Digest = digest
	return b, nil
}

func findFile(files []buildplan.AgentFile, rel string) (buildplan.AgentFile, bool) {
	for _, f := range files {
		if f.Path == rel {
			return f, true
		}
	}
	return buildplan.AgentFile{}, false
}
