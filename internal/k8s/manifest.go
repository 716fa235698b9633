package k8s

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
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
// its Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and
// Pods, also inside a v1 List; other kinds are skipped. Unknown fields are
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
	where := func(err error) error { return fmt.Errorf("%s: document %d (%s): %w", file, doc, tm.Kind, err) }
	name := tm.Metadata.Name
	if name == "" {
		name = tm.Metadata.GenerateName
	}
	w := Workload{File: file, Doc: doc, Kind: tm.Kind, Name: name}
	switch tm.Kind {
	case "List":
		var out []Workload
		for _, item := range tm.Items {
			ws, err := workloads(file, doc, item)
			if err != nil {
				return nil, err
			}
			out = append(out, ws...)
		}
		return out, nil
	case "Deployment":
		var o appsv1.Deployment
		if err := yaml.Unmarshal(raw, &o); err != nil {
			return nil, where(err)
		}
		w.Pod, w.PodPath = &o.Spec.Template.Spec, "spec.template.spec"
	case "StatefulSet":
		var o appsv1.StatefulSet
		if err := yaml.Unmarshal(raw, &o); err != nil {
			return nil, where(err)
		}
		w.Pod, w.PodPath = &o.Spec.Template.Spec, "spec.template.spec"
	case "DaemonSet":
		var o appsv1.DaemonSet
		if err := yaml.Unmarshal(raw, &o); err != nil {
			return nil, where(err)
		}
		w.Pod, w.PodPath = &o.Spec.Template.Spec, "spec.template.spec"
	case "ReplicaSet":
		var o appsv1.ReplicaSet
		if err := yaml.Unmarshal(raw, &o); err != nil {
			return nil, where(err)
		}
		w.Pod, w.PodPath = &o.Spec.Template.Spec, "spec.template.spec"
	case "Job":
		var o batchv1.Job
		if err := yaml.Unmarshal(raw, &o); err != nil {
			return nil, where(err)
		}
		w.Pod, w.PodPath = &o.Spec.Template.Spec, "spec.template.spec"
	case "CronJob":
		var o batchv1.CronJob
		if err := yaml.Unmarshal(raw, &o); err != nil {
			return nil, where(err)
		}
		w.Pod, w.PodPath = &o.Spec.JobTemplate.Spec.Template.Spec, "spec.jobTemplate.spec.template.spec"
	case "Pod":
		var o corev1.Pod
		if err := yaml.Unmarshal(raw, &o); err != nil {
			return nil, where(err)
		}
		w.Pod, w.PodPath = &o.Spec, "spec"
	default:
		return nil, nil
	}
	return []Workload{w}, nil
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
