package k8s

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Platform is the kind of cluster the manifests are for. Only what really
// differs is platform-specific: where images are expected to come from, and
// GKE Autopilot's resource rules.
type Platform string

const (
	PlatformGeneric      Platform = "generic"
	PlatformAKS          Platform = "aks"
	PlatformEKS          Platform = "eks"
	PlatformGKE          Platform = "gke"
	PlatformGKEAutopilot Platform = "gke-autopilot"
)

// Platforms lists the accepted --cluster values (jbuild k8s).
var Platforms = []Platform{PlatformGeneric, PlatformAKS, PlatformEKS, PlatformGKE, PlatformGKEAutopilot}

// ParsePlatform reads a --cluster value ("" is generic).
func ParsePlatform(s string) (Platform, error) {
	if s == "" {
		return PlatformGeneric, nil
	}
	for _, p := range Platforms {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("--cluster %q: use aks, eks, gke, gke-autopilot or generic", s)
}

var (
	acrHost = regexp.MustCompile(`^[a-z0-9]+\.azurecr\.(io|cn|us)$`)
	ecrHost = regexp.MustCompile(`^[0-9]{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)
	garHost = regexp.MustCompile(`^[a-z0-9-]+-docker\.pkg\.dev$`)
	gcrHost = regexp.MustCompile(`^([a-z]+\.)?gcr\.io$`)
)

// RegistryWarnings says when the image's registry is not the one the
// platform pulls from without extra credentials: AKS pulls from Azure
// Container Registry (NAME.azurecr.io) through the cluster's attached ACR,
// EKS from ECR (ACCOUNT.dkr.ecr.REGION.amazonaws.com) through the node role,
// GKE from Artifact Registry (REGION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE)
// through the node service account. Any other registry works too, with an
// imagePullSecret: hence warnings, not errors.
func RegistryWarnings(p Platform, image string) []string {
	ref, err := name.ParseReference(image, name.WeakValidation)
	if err != nil {
		return nil
	}
	host := ref.Context().RegistryStr()
	repo := ref.Context().RepositoryStr()
	var w []string
	if isLoopback(host) && p != PlatformGeneric {
		w = append(w, fmt.Sprintf("image %s is on %s, which the cluster's nodes cannot reach: push it to the cluster's registry (jbuild wrap ... -t REGISTRY/REPO:TAG)", image, host))
		return w
	}
	switch p {
	case PlatformAKS:
		if !acrHost.MatchString(host) {
			w = append(w, fmt.Sprintf("image registry %s is not Azure Container Registry: AKS pulls from NAME.azurecr.io with `az aks update --attach-acr NAME`; for %s add an imagePullSecret to the pod", host, host))
		}
	case PlatformEKS:
		if !ecrHost.MatchString(host) && host != "public.ecr.aws" {
			w = append(w, fmt.Sprintf("image registry %s is not Amazon ECR: EKS nodes pull from ACCOUNT.dkr.ecr.REGION.amazonaws.com with their node role; for %s add an imagePullSecret to the pod", host, host))
		}
	case PlatformGKE, PlatformGKEAutopilot:
		switch {
		case garHost.MatchString(host):
			if strings.Count(repo, "/") < 2 {
				w = append(w, fmt.Sprintf("image %s: Artifact Registry names images LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE; %q lacks a part", image, repo))
			}
		case gcrHost.MatchString(host):
			w = append(w, fmt.Sprintf("image registry %s is Container Registry's naming, now served by Artifact Registry only for migrated projects: push to LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE", host))
		default:
			w = append(w, fmt.Sprintf("image registry %s is not Artifact Registry: GKE nodes pull from LOCATION-docker.pkg.dev/PROJECT/REPOSITORY with the node service account; for %s add an imagePullSecret to the pod", host, host))
		}
	}
	return w
}

func isLoopback(host string) bool {
	h := host
	if i := strings.LastIndex(h, ":"); i > 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	return h == "localhost" || strings.HasPrefix(h, "127.") || h == "[::1]"
}

// validate applies GKE Autopilot's rules: requests are required (Validate
// checks that for every platform), and limits equal requests, which
// Autopilot would otherwise change behind the manifest's back.
func (p Platform) validate(o *Options) error {
	if p != PlatformGKEAutopilot {
		return nil
	}
	r := o.Resources
	var errs []string
	for _, q := range []struct{ what, req, lim string }{{"cpu", r.CPURequest, r.CPULimit}, {"memory", r.MemoryRequest, r.MemoryLimit}} {
		if q.lim == "" || q.req == "" {
			continue
		}
		lq, err1 := resource.ParseQuantity(q.lim)
		rq, err2 := resource.ParseQuantity(q.req)
		if err1 == nil && err2 == nil && lq.Cmp(rq) != 0 {
			errs = append(errs, fmt.Sprintf("--%s-limit %s differs from --%s-request %s: GKE Autopilot sets limits equal to requests; drop --%s-limit or make it %s", q.what, q.lim, q.what, q.req, q.what, q.req))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// autopilotRatioWarning: Autopilot's general-purpose class wants 1 to 6.5
// GiB of memory per vCPU and raises the smaller one otherwise.
func autopilotRatioWarning(r Resources) string {
	cpu, err1 := resource.ParseQuantity(r.CPURequest)
	mem, err2 := resource.ParseQuantity(r.MemoryRequest)
	if err1 != nil || err2 != nil || cpu.MilliValue() == 0 {
		return ""
	}
	gibPerCPU := float64(mem.Value()) / (1 << 30) / (float64(cpu.MilliValue()) / 1000)
	if gibPerCPU < 1 || gibPerCPU > 6.5 {
		return fmt.Sprintf("GKE Autopilot wants 1 to 6.5 GiB of memory per vCPU (general-purpose class); %s CPU and %s memory is %.2f GiB per vCPU, so Autopilot will raise one of them", r.CPURequest, r.MemoryRequest, gibPerCPU)
	}
	return ""
}
