package k8s

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Manifests are the rendered objects and what the user should know about
// them.
type Manifests struct {
	Deployment *appsv1.Deployment
	Service    *corev1.Service
	HPA        *autoscalingv2.HorizontalPodAutoscaler
	// Notes explain choices (a downward variable left out, the user used);
	// Warnings say what may not work as is (a registry the platform does not
	// pull from without credentials).
	Notes, Warnings []string
}

// autopilotEphemeral is GKE Autopilot's default ephemeral-storage request.
const autopilotEphemeral = "1Gi"

// LabelName is the label that ties the Deployment, its pods, the Service
// and the HPA together.
const LabelName = "app.kubernetes.io/name"

// portName names the container port the Service targets.
const portName = "http"

// Render builds the Deployment, Service and HorizontalPodAutoscaler for img.
// The image must be a monitored variant with a known non-root user (or
// o.UID); o must be valid (Options.Validate).
func Render(img *Image, o Options) (*Manifests, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if img.Reachable && !img.Monitored() {
		return nil, fmt.Errorf("%s is not a monitored variant (no %s label): wrap it first (jbuild wrap %s) and render the manifests for the output", img.Ref, "io.jbuild.profile", img.Ref)
	}
	m := &Manifests{}
	uid, gid := img.UID, img.GID
	if o.UID != nil {
		if uid != nil && *uid != *o.UID {
			m.Notes = append(m.Notes, fmt.Sprintf("running as uid %d instead of the image's %d: the agent's writable dirs in the image belong to %d, so only the emptyDirs are writable", *o.UID, *uid, *uid))
		}
		uid, gid = o.UID, o.GID
		if gid == nil {
			gid = o.UID
		}
	}
	switch {
	case uid == nil:
		return nil, fmt.Errorf("the user of %s is unknown: pass --user UID[:GID] (the numeric USER the image runs as)", img.Ref)
	case *uid == 0:
		return nil, fmt.Errorf("%s runs as root (USER %q): the restricted Pod Security Standard needs a non-root user; give the image a numeric non-root USER before wrapping it, or pass --user UID[:GID] (the agent's writable dirs then stay writable only through the emptyDirs)", img.Ref, img.User)
	}
	if gid == nil {
		zero := int64(0)
		gid = &zero
	}

	labels := map[string]string{LabelName: o.Name}
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace, Labels: copyMap(labels)}
	}

	vols, mounts, storage, err := emptyDirs(writableDirs(img), o.Resources.VolumeSize)
	if err != nil {
		return nil, err
	}
	res, err := resources(o, storage)
	if err != nil {
		return nil, err
	}
	protocol := corev1.Protocol(o.Protocol)
	if protocol == "" {
		protocol = corev1.ProtocolTCP
	}
	env, notes := downwardEnv(img)
	m.Notes = append(m.Notes, notes...)

	c := corev1.Container{
		Name:            o.Name,
		Image:           o.Image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Ports:           []corev1.ContainerPort{{Name: portName, ContainerPort: o.Port, Protocol: protocol}},
		Env:             env,
		Resources:       res,
		VolumeMounts:    mounts,
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr(false),
			ReadOnlyRootFilesystem:   ptr(true),
			RunAsNonRoot:             ptr(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
	}
	pod := corev1.PodSpec{
		// The application needs no Kubernetes API access; no token is
		// mounted for it to leak (as the examples' manifests).
		AutomountServiceAccountToken: ptr(false),
		Containers:                   []corev1.Container{c},
		Volumes:                      vols,
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot: ptr(true),
			RunAsUser:    ptr(*uid),
			RunAsGroup:   ptr(*gid),
			// emptyDirs are group-owned by fsGroup and group-writable.
			FSGroup:        ptr(*gid),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		NodeSelector: nodeSelector(img),
	}
	if *gid == 0 {
		// gid 0 is allowed by the restricted standard, but an fsGroup of 0
		// makes the emptyDirs root-group-owned: leave it to the runtime.
		pod.SecurityContext.FSGroup = nil
		m.Notes = append(m.Notes, fmt.Sprintf("the image's user %d has group 0: no fsGroup is set (pass --user %d:GID to set one)", *uid, *uid))
	}
	dep := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta(),
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: copyMap(labels)},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: copyMap(labels)},
				Spec:       pod,
			},
		},
	}
	if o.Replicas > 0 {
		dep.Spec.Replicas = ptr(o.Replicas)
	}
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: copyMap(labels),
			Ports:    []corev1.ServicePort{{Name: portName, Port: o.Port, Protocol: protocol, TargetPort: intstr.FromString(portName)}},
		},
	}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: meta(),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: o.Name},
			MinReplicas:    ptr(o.MinReplicas),
			MaxReplicas:    o.MaxReplicas,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr(o.CPUUtilization)},
				},
			}},
		},
	}
	m.Deployment, m.Service, m.HPA = dep, svc, hpa
	m.Warnings = append(m.Warnings, RegistryWarnings(o.Platform, o.Image)...)
	if o.Platform == PlatformGKEAutopilot {
		if w := autopilotRatioWarning(o.Resources); w != "" {
			m.Warnings = append(m.Warnings, w)
		}
	}
	return m, nil
}

// resources: requests always; limits as given, and on GKE Autopilot equal
// to the requests, with an ephemeral-storage request covering the emptyDirs
// (Autopilot counts emptyDirs against it and evicts beyond it).
func resources(o Options, storage resource.Quantity) (corev1.ResourceRequirements, error) {
	r := o.Resources
	req := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(r.CPURequest),
		corev1.ResourceMemory: resource.MustParse(r.MemoryRequest),
	}
	lim := corev1.ResourceList{}
	if r.CPULimit != "" {
		lim[corev1.ResourceCPU] = resource.MustParse(r.CPULimit)
	}
	if r.MemoryLimit != "" {
		lim[corev1.ResourceMemory] = resource.MustParse(r.MemoryLimit)
	}
	if o.Platform == PlatformGKEAutopilot {
		lim[corev1.ResourceCPU] = req[corev1.ResourceCPU]
		lim[corev1.ResourceMemory] = req[corev1.ResourceMemory]
		// Autopilot's default ephemeral storage (1Gi) covers the writable
		// layer and the container log; the emptyDirs come on top.
		storage.Add(resource.MustParse(autopilotEphemeral))
		req[corev1.ResourceEphemeralStorage] = storage
		lim[corev1.ResourceEphemeralStorage] = storage
	}
	out := corev1.ResourceRequirements{Requests: req}
	if len(lim) > 0 {
		out.Limits = lim
	}
	return out, nil
}

// TmpDir is the directory every rendered pod gets an emptyDir at: with a
// read-only root filesystem, runtimes and libraries that write temporary
// files (the JVM's hsperfdata, Python's tempfile, .NET's diagnostics
// sockets) need it writable, as the examples' manifests have it.
const TmpDir = "/tmp"

// writableDirs are /tmp and the image's io.jbuild.volumes, /tmp first and
// each once.
func writableDirs(img *Image) []string {
	dirs := []string{TmpDir}
	for _, d := range img.Volumes() {
		if d != TmpDir {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// emptyDirs gives each writable directory an emptyDir of the given size,
// and returns their total.
func emptyDirs(dirs []string, size string) ([]corev1.Volume, []corev1.VolumeMount, resource.Quantity, error) {
	var total resource.Quantity
	if len(dirs) == 0 {
		return nil, nil, total, nil
	}
	q, err := resource.ParseQuantity(size)
	if err != nil {
		return nil, nil, total, fmt.Errorf("--volume-size %q: %w", size, err)
	}
	var vols []corev1.Volume
	var mounts []corev1.VolumeMount
	seen := map[string]bool{}
	for _, d := range dirs {
		if !path.IsAbs(d) || path.Clean(d) != d || d == "/" {
			return nil, nil, total, fmt.Errorf("io.jbuild.volumes names %q, which is not an absolute directory: re-wrap the image with this jbuild", d)
		}
		name := volumeName(d)
		if seen[name] {
			continue
		}
		seen[name] = true
		sz := q.DeepCopy()
		vols = append(vols, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &sz}}})
		mounts = append(mounts, corev1.VolumeMount{Name: name, MountPath: d})
		total.Add(q)
	}
	return vols, mounts, total, nil
}

var nonName = regexp.MustCompile(`[^a-z0-9]+`)

// volumeName is a DNS label from a path ("/opt/jennifer/agent.java/logs" ->
// "opt-jennifer-agent-java-logs"), shortened with a hash when too long.
func volumeName(p string) string {
	n := strings.Trim(nonName.ReplaceAllString(strings.ToLower(p), "-"), "-")
	if n == "" {
		n = "root"
	}
	if len(n) > 63 {
		sum := sha256.Sum256([]byte(p))
		n = strings.Trim(n[len(n)-50:], "-") + "-" + hex.EncodeToString(sum[:])[:8]
		n = strings.TrimLeft(n, "-")
	}
	return n
}

// downwardEnv are the profile's downward API variables, minus any the
// image already sets: a pod's env replaces the image's value, and what the
// image (or its plan) sets must win.
func downwardEnv(img *Image) ([]corev1.EnvVar, []string) {
	if img.Profile == nil {
		if img.ProfileName() != "" {
			return nil, []string{fmt.Sprintf("profile %s is not built in: no downward API variables are passed (a built-in profile lists them under downwardEnv)", img.ProfileName())}
		}
		return nil, nil
	}
	var env []corev1.EnvVar
	var notes []string
	for _, d := range img.Profile.DownwardEnv {
		if v, ok := img.Env[d.Name]; ok {
			notes = append(notes, fmt.Sprintf("%s is not taken from %s: the image sets it (%q), and the pod's value would replace the image's", d.Name, d.FieldPath, v))
			continue
		}
		env = append(env, corev1.EnvVar{Name: d.Name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: d.FieldPath}}})
	}
	return env, notes
}

// nodeSelector keeps the pods on Linux nodes, and on the one architecture
// the image has when it has only one (a mixed amd64/arm64 node pool would
// otherwise start it where it cannot run).
func nodeSelector(img *Image) map[string]string {
	sel := map[string]string{"kubernetes.io/os": "linux"}
	archs := img.Archs
	if len(archs) == 0 && img.Profile != nil {
		archs = img.Profile.Arch
	}
	uniq := map[string]bool{}
	for _, a := range archs {
		uniq[a] = true
	}
	if len(uniq) == 1 {
		for a := range uniq {
			sel["kubernetes.io/arch"] = a
		}
	}
	return sel
}

func ptr[T any](v T) *T { return &v }

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// sortedKeys of a string map.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
