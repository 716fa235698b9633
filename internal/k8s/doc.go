// Package k8s renders Kubernetes manifests for a monitored image (`jbuild
// k8s`) and checks existing manifests for what silently defeats build-time
// injection (`jbuild lint`).
//
// Both work on Image, what the image config says about the monitored
// variant (jbuild's labels, USER, EXPOSE, ENV), read once through
// internal/transport by Inspect, or assembled from flags when the registry
// is out of reach. Rendering and linting themselves are pure: Render takes an
// Image and Options and returns k8s.io/api objects; Lint takes parsed
// manifests and a lookup function and returns findings.
//
// The rendered pod satisfies the restricted Pod Security Standard: it runs
// as the image's numeric user, with a read-only root filesystem and an
// emptyDir at every directory the io.jbuild.volumes label names, no
// privilege escalation, every capability dropped and the RuntimeDefault
// seccomp profile. Platform differences (AKS, EKS, GKE, GKE Autopilot) are
// kept to what really differs: registry naming and Autopilot's resource
// rules.
package k8s
