package manifest

import "strings"

// WorkloadKind is a Kubernetes kind whose objects carry a pod spec.
type WorkloadKind struct {
	Kind string
	// PodSpec is the field path of the pod spec in the object.
	PodSpec []string
}

// workloadKinds are the kinds jbuild finds containers in: the images that
// `wrap -f` rewrites (Parse) and the pods that `jbuild lint` checks
// (internal/k8s) both come from this one table.
var workloadKinds = []WorkloadKind{
	{"Pod", []string{"spec"}},
	{"PodTemplate", []string{"template", "spec"}},
	{"Deployment", []string{"spec", "template", "spec"}},
	{"StatefulSet", []string{"spec", "template", "spec"}},
	{"DaemonSet", []string{"spec", "template", "spec"}},
	{"ReplicaSet", []string{"spec", "template", "spec"}},
	{"ReplicationController", []string{"spec", "template", "spec"}},
	{"Job", []string{"spec", "template", "spec"}},
	{"CronJob", []string{"spec", "jobTemplate", "spec", "template", "spec"}},
}

// WorkloadKinds lists every kind whose objects carry a pod spec, and where.
func WorkloadKinds() []WorkloadKind {
	out := make([]WorkloadKind, len(workloadKinds))
	for i, k := range workloadKinds {
		out[i] = WorkloadKind{k.Kind, append([]string(nil), k.PodSpec...)}
	}
	return out
}

// PodSpecPath is the field path of the pod spec in objects of kind
// (["spec", "template", "spec"] for a Deployment); ok is false for kinds
// that carry none.
func PodSpecPath(kind string) (path []string, ok bool) {
	for _, k := range workloadKinds {
		if k.Kind == kind {
			return append([]string(nil), k.PodSpec...), true
		}
	}
	return nil, false
}

// IsList reports whether objects of kind hold other objects in items: a
// v1 List, or a typed list such as DeploymentList (kubectl get -o yaml).
func IsList(kind string) bool { return strings.HasSuffix(kind, "List") }
