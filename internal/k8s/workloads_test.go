package k8s

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/internal/manifest"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// The sample with one object of every kind of manifest's workload table.
var workloadsSample = filepath.Join("..", "manifest", "testdata", "workloads.yaml")

// TestReadWorkloadsFindsEveryWorkloadKind: every kind of manifest's table
// has its pod spec found by ReadWorkloads in the sample, at the table's
// path, and `jbuild lint` (ReadWorkloads) and `wrap -f` (manifest.Parse)
// see the same objects with the same images.
func TestReadWorkloadsFindsEveryWorkloadKind(t *testing.T) {
	data, err := os.ReadFile(workloadsSample)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := ReadWorkloads(workloadsSample, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Workload{}
	var lint []string
	for _, w := range ws {
		byName[w.Name] = w
		for _, c := range w.Pod.Containers {
			lint = append(lint, w.Resource()+" "+c.Name+" "+c.Image)
		}
	}
	for _, k := range manifest.WorkloadKinds() {
		name := strings.ToLower(k.Kind)
		w, ok := byName[name]
		if !ok {
			t.Errorf("%s/%s not read", k.Kind, name)
			continue
		}
		if w.Kind != k.Kind || w.PodPath != strings.Join(k.PodSpec, ".") || len(w.Pod.Containers) != 1 || w.Pod.Containers[0].Image != "registry.example.com/"+name+":1" {
			t.Errorf("%s: kind %s, pod at %s, containers %+v", name, w.Kind, w.PodPath, w.Pod.Containers)
		}
	}
	if w := byName["listed"]; w.Kind != "Deployment" {
		t.Errorf("the DeploymentList's item was not read: %+v", ws)
	}

	f, err := manifest.Parse(workloadsSample, data)
	if err != nil {
		t.Fatal(err)
	}
	var wrap []string
	for _, im := range f.Images {
		wrap = append(wrap, im.Kind+"/"+im.Name+" "+im.Container+" "+im.Value)
	}
	sort.Strings(lint)
	sort.Strings(wrap)
	if !reflect.DeepEqual(lint, wrap) {
		t.Errorf("lint reads:\n%s\nwrap -f reads:\n%s", strings.Join(lint, "\n"), strings.Join(wrap, "\n"))
	}
}

// TestReadWorkloadsAsTyped: the pod spec found through the table is the
// one the kind's own Go type decodes (as ReadWorkloads did before the
// table), for every manifest of the lint and golden tests and the sample.
func TestReadWorkloadsAsTyped(t *testing.T) {
	typed := map[string]func([]byte) (*corev1.PodSpec, error){
		"Pod":         typedPod(func(o *corev1.Pod) *corev1.PodSpec { return &o.Spec }),
		"PodTemplate": typedPod(func(o *corev1.PodTemplate) *corev1.PodSpec { return &o.Template.Spec }),
		"ReplicationController": typedPod(func(o *corev1.ReplicationController) *corev1.PodSpec {
			if o.Spec.Template == nil {
				return &corev1.PodSpec{}
			}
			return &o.Spec.Template.Spec
		}),
		"Deployment":  typedPod(func(o *appsv1.Deployment) *corev1.PodSpec { return &o.Spec.Template.Spec }),
		"StatefulSet": typedPod(func(o *appsv1.StatefulSet) *corev1.PodSpec { return &o.Spec.Template.Spec }),
		"DaemonSet":   typedPod(func(o *appsv1.DaemonSet) *corev1.PodSpec { return &o.Spec.Template.Spec }),
		"ReplicaSet":  typedPod(func(o *appsv1.ReplicaSet) *corev1.PodSpec { return &o.Spec.Template.Spec }),
		"Job":         typedPod(func(o *batchv1.Job) *corev1.PodSpec { return &o.Spec.Template.Spec }),
		"CronJob":     typedPod(func(o *batchv1.CronJob) *corev1.PodSpec { return &o.Spec.JobTemplate.Spec.Template.Spec }),
	}
	for _, k := range manifest.WorkloadKinds() {
		if typed[k.Kind] == nil {
			t.Errorf("no typed decoder for %s: add one to this test", k.Kind)
		}
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	files = append(files, workloadsSample)
	checked := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		dec := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			raw, err := dec.Read()
			if err != nil {
				break
			}
			var tm typeMeta
			if yaml.Unmarshal(raw, &tm) != nil || typed[tm.Kind] == nil {
				continue
			}
			want, err := typed[tm.Kind](raw)
			if err != nil {
				t.Fatalf("%s: %s: %v", file, tm.Kind, err)
			}
			ws, err := ReadWorkloads(file, bytes.NewReader(raw))
			if err != nil || len(ws) != 1 {
				t.Fatalf("%s: %s: %d workloads, %v", file, tm.Kind, len(ws), err)
			}
			if !reflect.DeepEqual(ws[0].Pod, want) {
				t.Errorf("%s: %s/%s: pod spec\n%+v\nwant\n%+v", file, tm.Kind, tm.Metadata.Name, ws[0].Pod, want)
			}
			checked++
		}
	}
	if checked < len(typed) {
		t.Errorf("only %d objects checked", checked)
	}
}

// typedPod decodes an object as its Go type T and returns its pod spec.
func typedPod[T any](pod func(*T) *corev1.PodSpec) func([]byte) (*corev1.PodSpec, error) {
	return func(raw []byte) (*corev1.PodSpec, error) {
		var o T
		if err := yaml.Unmarshal(raw, &o); err != nil {
			return nil, err
		}
		return pod(&o), nil
	}
}
