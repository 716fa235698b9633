package manifest

import (
	"strings"
	"testing"
)

// TestWorkloadKindsFindTheirPodSpec: every kind of the table finds the
// container of its sample in testdata/workloads.yaml (and a typed List's
// item is found too); the sample holds no workload kind the table lacks.
func TestWorkloadKindsFindTheirPodSpec(t *testing.T) {
	f, _ := parseFile(t, "workloads.yaml")
	found := map[string]string{}
	for _, im := range f.Images {
		if _, ok := PodSpecPath(im.Kind); !ok {
			t.Errorf("%s found, but its kind is not in the table", im.Where())
		}
		found[im.Name] = im.Value
	}
	for _, k := range WorkloadKinds() {
		name := strings.ToLower(k.Kind)
		if want := "registry.example.com/" + name + ":1"; found[name] != want {
			t.Errorf("%s/%s: image %q, want %q (pod spec at %s)", k.Kind, name, found[name], want, strings.Join(k.PodSpec, "."))
		}
	}
	if found["listed"] != "registry.example.com/listed:1" {
		t.Errorf("the DeploymentList's item was not found: %v", found)
	}
	if len(f.Images) != len(WorkloadKinds())+1 {
		t.Errorf("%d images found, want one per kind plus the listed one: %+v", len(f.Images), f.Images)
	}
}

func TestWorkloadKindsTable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range WorkloadKinds() {
		if seen[k.Kind] || IsList(k.Kind) || len(k.PodSpec) == 0 || k.PodSpec[len(k.PodSpec)-1] != "spec" {
			t.Errorf("kind %s: listed twice, a list, or its pod spec path %v does not end in spec", k.Kind, k.PodSpec)
		}
		seen[k.Kind] = true
	}
	if _, ok := PodSpecPath("Service"); ok {
		t.Error("Service has a pod spec path")
	}
	k := WorkloadKinds()
	k[0].PodSpec[0] = "changed"
	if p, _ := PodSpecPath(k[0].Kind); p[0] == "changed" {
		t.Error("WorkloadKinds shares its paths with the table")
	}
	for kind, want := range map[string]bool{"List": true, "DeploymentList": true, "Deployment": false, "": false} {
		if IsList(kind) != want {
			t.Errorf("IsList(%q) = %v, want %v", kind, !want, want)
		}
	}
}
