package k8s

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/jbuild-dev/jbuild/internal/manifest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Workload is one object of a manifest that runs containers.
type Workload struct {
	// File the object was read from, and its position in the stream
	// (1-based document number).
	File string
	Doc  int
	// Kind and Name as in the manifest ("Deployment", "api").
	Kind, Name string
	// Pod is the pod spec; PodPath is its field path in the object
	// ("spec.template.spec").
	Pod     *corev1.PodSpec
	PodPath string
}

// Resource is "Kind/name", how findings name the object.
func (w *Workload) Resource() string { return w.Kind + "/" + w.Name }

// ReadWorkloads reads a multi-document YAML (or JSON) stream and returns
// its objects of every kind in manifest.WorkloadKinds (the kinds `wrap -f`
// rewrites), also inside a List; other kinds are skipped. Unknown fields are
// tolerated (a newer API than jbuild knows), malformed documents are
// errors naming the file and document.
func ReadWorkloads(file string, r io.Reader) ([]Workload, error) {
	dec := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var out []Workload
	for doc := 1; ; doc++ {
		raw, err := dec.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, doc, err)
		}
		if blank(raw) {
			doc--
			continue
		}
		ws, err := workloads(file, doc, raw)
		if err != nil {
			return nil, err
		}
		out = append(out, ws...)
	}
}

type typeMeta struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name         string `json:"name"`
		GenerateName string `json:"generateName"`
	} `json:"metadata"`
	Items []rawItem `json:"items"`
}

// rawItem keeps a List item as raw JSON for a second decode.
type rawItem []byte

func (j *rawItem) UnmarshalJSON(b []byte) error { *j = append((*j)[:0], b...); return nil }

func workloads(file string, doc int, raw []byte) ([]Workload, error) {
	var tm typeMeta
	if err := yaml.Unmarshal(raw, &tm); err != nil {
		return nil, fmt.Errorf("%s: document %d: %w", file, doc, err)
	}
	if manifest.IsList(tm.Kind) {
		var out []Workload
		for _, item := range tm.Items {
			ws, err := workloads(file, doc, item)
			if err != nil {
				return nil, err
			}
			out = append(out, ws...)
		}
		return out, nil
	}
	path, ok := manifest.PodSpecPath(tm.Kind)
	if !ok {
		return nil, nil
	}
	name := tm.Metadata.Name
	if name == "" {
		name = tm.Metadata.GenerateName
	}
	pod, err := podSpecAt(raw, path)
	if err != nil {
		return nil, fmt.Errorf("%s: document %d (%s): %w", file, doc, tm.Kind, err)
	}
	return []Workload{{File: file, Doc: doc, Kind: tm.Kind, Name: name, Pod: pod, PodPath: strings.Join(path, ".")}}, nil
}

// podSpecAt decodes the object raw into a struct shaped by path, whose
// fields are its metadata and, at path, a corev1.PodSpec: decoding into
// typed fields keeps the API's types (key: y is the string "y", not YAML
// 1.1's true) and reports what does not fit them, as decoding into the
// kind's own Go type did. A field missing on the way is an empty pod spec.
func podSpecAt(raw []byte, path []string) (*corev1.PodSpec, error) {
	t := reflect.TypeOf(corev1.PodSpec{})
	for i := len(path) - 1; i >= 0; i-- {
		fields := []reflect.StructField{{Name: "F", Type: t, Tag: reflect.StructTag(`json:"` + path[i] + `"`)}}
		if i == 0 {
			fields = append(fields, reflect.StructField{Name: "Metadata", Type: reflect.TypeOf(metav1.ObjectMeta{}), Tag: `json:"metadata"`})
		}
		t = reflect.StructOf(fields)
	}
	obj := reflect.New(t)
	if err := yaml.Unmarshal(raw, obj.Interface()); err != nil {
		return nil, err
	}
	v := obj.Elem()
	for range path {
		v = v.Field(0)
	}
	return v.Addr().Interface().(*corev1.PodSpec), nil
}

// blank: only separators, comments and white space (a leading "---" comes
// back as a document of its own).
func blank(raw []byte) bool {
	for _, l := range bytes.Split(raw, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) > 0 && l[0] != '#' && !bytes.Equal(l, []byte("---")) {
			return false
		}
	}
	return true
}
