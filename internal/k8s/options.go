package k8s

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Options are the choices of `jbuild k8s` (flags).
type Options struct {
	// Name of the Deployment, Service and HPA (a DNS-1123 label).
	Name string
	// Namespace, empty: none written (kubectl's current namespace).
	Namespace string
	// Image is the reference written into the pod: the image as named, or
	// pinned by digest (repo@sha256:...).
	Image string
	// Port is the container port; the Service exposes the same port.
	Port     int32
	Protocol string // TCP (default), UDP or SCTP
	// Replicas of the Deployment; 0 leaves the field out, so the HPA owns
	// the count and applying the manifest again does not reset it.
	Replicas int32
	// MinReplicas, MaxReplicas and CPUUtilization (percent of the CPU
	// request) configure the HorizontalPodAutoscaler, like
	// `kubectl autoscale --min --max --cpu-percent`.
	MinReplicas, MaxReplicas, CPUUtilization int32
	// Resources of the container.
	Resources Resources
	// Platform selects the few things that differ between clusters.
	Platform Platform
	// UID and GID override the image's user (runAsUser/runAsGroup).
	UID, GID *int64
}

// Resources are the container's requests and limits, as Kubernetes
// quantities ("250m", "512Mi"); an empty limit is left out.
type Resources struct {
	CPURequest, MemoryRequest string
	CPULimit, MemoryLimit     string
	// VolumeSize is the sizeLimit of each emptyDir.
	VolumeSize string
}

// Defaults. The requests satisfy GKE Autopilot (at least 250m CPU for the
// general-purpose class in older clusters, and 1 to 6.5 GiB of memory per
// vCPU: 512Mi per 250m is 2 GiB per vCPU). Memory is limited to the request
// (a JVM sizes its heap from the limit); CPU is not limited outside
// Autopilot, because a CPU limit throttles start-up, when the agent
// instruments classes, and the HPA scales on CPU anyway.
const (
	DefaultCPURequest    = "250m"
	DefaultMemoryRequest = "512Mi"
	DefaultVolumeSize    = "256Mi"
	DefaultMinReplicas   = 1
	DefaultMaxReplicas   = 3
	DefaultCPUPercent    = 70
)

// DefaultResources are the defaults above.
func DefaultResources() Resources {
	return Resources{CPURequest: DefaultCPURequest, MemoryRequest: DefaultMemoryRequest, MemoryLimit: DefaultMemoryRequest, VolumeSize: DefaultVolumeSize}
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Validate checks the options; errors name the flag and what to write.
func (o *Options) Validate() error {
	var errs []string
	fail := func(f string, a ...any) { errs = append(errs, fmt.Sprintf(f, a...)) }
	if len(o.Name) > 63 || !dnsLabel.MatchString(o.Name) {
		fail("--name %q: use lowercase letters, digits and '-', at most 63 characters, starting and ending with a letter or digit", o.Name)
	}
	if o.Namespace != "" && (len(o.Namespace) > 63 || !dnsLabel.MatchString(o.Namespace)) {
		fail("--namespace %q: use lowercase letters, digits and '-', at most 63 characters", o.Namespace)
	}
	if o.Port < 1 || o.Port > 65535 {
		fail("--port %d: must be 1-65535", o.Port)
	}
	if o.MinReplicas < 1 {
		fail("--min %d: must be at least 1", o.MinReplicas)
	}
	if o.MaxReplicas < o.MinReplicas {
		fail("--max %d: must be at least --min %d", o.MaxReplicas, o.MinReplicas)
	}
	if o.CPUUtilization < 1 {
		fail("--cpu %d: a CPU utilization target in percent of the request, e.g. 70", o.CPUUtilization)
	}
	if o.Replicas < 0 || (o.Replicas > 0 && (o.Replicas < o.MinReplicas || o.Replicas > o.MaxReplicas)) {
		fail("--replicas %d: must be between --min %d and --max %d (or 0 to let the autoscaler decide)", o.Replicas, o.MinReplicas, o.MaxReplicas)
	}
	r := o.Resources
	for _, q := range []struct {
		flag, v  string
		required bool
	}{
		{"--cpu-request", r.CPURequest, true}, {"--memory-request", r.MemoryRequest, true},
		{"--cpu-limit", r.CPULimit, false}, {"--memory-limit", r.MemoryLimit, false},
		{"--volume-size", r.VolumeSize, true},
	} {
		if q.v == "" {
			if q.required {
				fail("%s must not be empty: the autoscaler's CPU target is a percentage of the request, and GKE Autopilot requires requests", q.flag)
			}
			continue
		}
		v, err := resource.ParseQuantity(q.v)
		if err != nil || v.Sign() <= 0 {
			fail("%s %q: not a positive Kubernetes quantity (CPU: 250m, 1; memory: 512Mi, 1Gi)", q.flag, q.v)
		}
	}
	if len(errs) == 0 {
		for _, p := range []struct{ req, lim, what string }{{r.CPURequest, r.CPULimit, "cpu"}, {r.MemoryRequest, r.MemoryLimit, "memory"}} {
			if p.lim == "" {
				continue
			}
			lim, req := resource.MustParse(p.lim), resource.MustParse(p.req)
			if lim.Cmp(req) < 0 {
				fail("--%s-limit %s is below --%s-request %s: Kubernetes rejects the pod", p.what, p.lim, p.what, p.req)
			}
		}
	}
	switch o.Protocol {
	case "", "TCP", "UDP", "SCTP":
	default:
		fail("protocol %q: TCP, UDP or SCTP", o.Protocol)
	}
	if o.UID != nil && *o.UID == 0 {
		fail("--user 0: the restricted Pod Security Standard forbids root; give a non-root uid")
	}
	if err := o.Platform.validate(o); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}
