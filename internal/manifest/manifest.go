// Package manifest finds the container images named in Kubernetes manifests
// and rewrites them in place. It is pure: bytes in, bytes out, no I/O.
//
// Rewriting never re-encodes a document. The YAML is parsed (yaml.v3) only
// to locate each image scalar; the new value is then spliced into the
// original bytes at that scalar's position, in the scalar's own quoting
// style. Comments, key order, indentation, blank lines and document
// separators are therefore kept byte for byte; only the image values change.
//
// Which kinds carry a pod spec, and where, is one table (WorkloadKinds):
// internal/k8s reads the pods `jbuild lint` checks through it too, so lint
// and `wrap -f` always see the same workloads.
package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"

	"github.com/jbuild-dev/jbuild/internal/yamlnode"
)

// Image is one container image field found in a manifest.
type Image struct {
	// Doc is the 0-based index of the YAML document in the file.
	Doc int
	// Kind, Name and Namespace identify the resource (metadata.name, may be
	// empty for generateName or List items without one).
	Kind, Name, Namespace string
	// Field is "containers" or "initContainers"; Container is the
	// container's name.
	Field, Container string
	// Value is the image reference as written.
	Value string
	// Line and Column are 1-based, of the scalar in the file.
	Line, Column int

	start, end int // byte span of the scalar, quotes included
	style      yaml.Style
}

// Where names the field for messages: "Deployment/web containers[app]".
func (im Image) Where() string {
	res := im.Kind
	if im.Name != "" {
		res += "/" + im.Name
	}
	return fmt.Sprintf("%s %s[%s]", res, im.Field, im.Container)
}

// File is a parsed manifest file.
type File struct {
	Name   string
	data   []byte
	Images []Image
}

// Parse reads every document of a (multi-document) YAML or JSON manifest
// file and records the image of every container and init container of the
// workloads in it (every kind of WorkloadKinds, also inside a List). Other
// resources are skipped. name is used in messages only.
func Parse(name string, data []byte) (*File, error) {
	f := &File{Name: name, data: data}
	lines := lineStarts(data)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 0; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, doc+1, err)
		}
		if n.Kind != yaml.DocumentNode || len(n.Content) == 0 {
			continue
		}
		if err := f.resource(n.Content[0], doc, lines); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, doc+1, err)
		}
	}
	return f, nil
}

func (f *File) resource(n *yaml.Node, doc int, lines []int) error {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	kind := scalar(get(n, "kind"))
	if IsList(kind) {
		items := get(n, "items")
		if items != nil && items.Kind == yaml.SequenceNode {
			for _, it := range items.Content {
				if err := f.resource(it, doc, lines); err != nil {
					return err
				}
			}
		}
		return nil
	}
	path, ok := PodSpecPath(kind)
	if !ok {
		return nil
	}
	meta := get(n, "metadata")
	spec := n
	for _, k := range path {
		if spec = get(spec, k); spec == nil {
			return nil
		}
	}
	for _, field := range []string{"initContainers", "containers"} {
		cs := get(spec, field)
		if cs == nil || cs.Kind != yaml.SequenceNode {
			continue
		}
		for _, c := range cs.Content {
			img := get(c, "image")
			if img == nil {
				continue
			}
			if img.Kind != yaml.ScalarNode {
				return fmt.Errorf("%s %s: image at line %d is not a string", kind, scalar(get(meta, "name")), img.Line)
			}
			start, end, err := span(f.data, lines, img)
			if err != nil {
				return fmt.Errorf("%s %s %s[%s]: %w", kind, scalar(get(meta, "name")), field, scalar(get(c, "name")), err)
			}
			f.Images = append(f.Images, Image{
				Doc: doc, Kind: kind,
				Name: scalar(get(meta, "name")), Namespace: scalar(get(meta, "namespace")),
				Field: field, Container: scalar(get(c, "name")),
				Value: img.Value, Line: img.Line, Column: img.Column,
				start: start, end: end, style: img.Style,
			})
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// lineStarts are the byte offsets where each line begins (index 0 = line 1).
func lineStarts(data []byte) []int {
	s := []int{0}
	for i, b := range data {
		if b == '\n' {
			s = append(s, i+1)
		}
	}
	return s
}

// span finds the bytes of a scalar in the source from its line and column
// (yaml.v3 counts columns in characters), and checks that they spell the
// value exactly, so a splice can never land on the wrong bytes. Scalars
// that do not spell their value verbatim (escapes, folded or multi-line
// values) are refused rather than rewritten approximately.
func span(data []byte, lines []int, n *yaml.Node) (int, int, error) {
	if n.Line < 1 || n.Line > len(lines) {
		return 0, 0, fmt.Errorf("image at line %d: position out of range", n.Line)
	}
	off := lines[n.Line-1]
	for col := 1; col < n.Column; col++ {
		if off >= len(data) || data[off] == '\n' {
			return 0, 0, fmt.Errorf("image at line %d: position out of range", n.Line)
		}
		_, size := utf8.DecodeRune(data[off:])
		off += size
	}
	var raw string
	switch n.Style {
	case 0:
		raw = n.Value
	case yaml.DoubleQuotedStyle:
		raw = `"` + n.Value + `"`
	case yaml.SingleQuotedStyle:
		raw = `'` + n.Value + `'`
	default:
		return 0, 0, fmt.Errorf("image at line %d: write it as a plain or quoted one-line string to have it rewritten", n.Line)
	}
	if !bytes.HasPrefix(data[off:], []byte(raw)) {
		return 0, 0, fmt.Errorf("image at line %d: %q is not written verbatim (escapes or line breaks); write it as a plain string to have it rewritten", n.Line, n.Value)
	}
	return off, off + len(raw), nil
}

// Rewrite returns the file's bytes with every image whose value is a key of
// repl replaced by repl[value], and how many fields changed. Everything else
// is kept byte for byte. An image value that repl maps to itself or does not
// name is left alone.
func (f *File) Rewrite(repl map[string]string) ([]byte, int, error) {
	type edit struct {
		start, end int
		text       string
	}
	var edits []edit
	for _, im := range f.Images {
		nv, ok := repl[im.Value]
		if !ok || nv == im.Value {
			continue
		}
		text, err := quote(nv, im.style)
		if err != nil {
			return nil, 0, fmt.Errorf("%s:%d: %w", f.Name, im.Line, err)
		}
		edits = append(edits, edit{im.start, im.end, text})
	}
	sort.Slice(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var out bytes.Buffer
	out.Grow(len(f.data) + 80*len(edits))
	pos := 0
	for _, e := range edits {
		out.Write(f.data[pos:e.start])
		out.WriteString(e.text)
		pos = e.end
	}
	out.Write(f.data[pos:])
	return out.Bytes(), len(edits), nil
}

// quote writes v in the style the old value had. Image references contain
// no characters that need escaping; anything else is refused.
func quote(v string, style yaml.Style) (string, error) {
	if v == "" || strings.ContainsAny(v, "\"'\\\n\r\t #") || strings.HasPrefix(v, "@") {
		return "", fmt.Errorf("replacement %q is not a plain image reference", v)
	}
	switch style {
	case yaml.DoubleQuotedStyle:
		return `"` + v + `"`, nil
	case yaml.SingleQuotedStyle:
		return `'` + v + `'`, nil
	}
	return v, nil
}

// get is yamlnode.Get, short for the many lookups here.
var get = yamlnode.Get
