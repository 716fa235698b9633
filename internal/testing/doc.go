// Package testing holds nothing itself: its sub-packages are jbuild's test
// support, kept apart from the product so that `ls internal/` shows only
// what ships.
//
//   - testenv: the real daemons the integration tier starts (a loopback
//     registry, buildkitd, dockerd and its containerd), test images and
//     the in-process registry of the quick tier.
//   - faultproxy: a reverse proxy that injects registry faults.
//   - sampleimage: the small Java-like sample image of tests and `make demo`.
//   - e2e: real runtime base images and agents for the end-to-end tests.
//   - podrun: a Kubernetes pod template turned into a runcheck run.
//   - k8scluster: a real single-node Kubernetes (k3s, containerd,
//     metrics-server) for the cluster tests and `make k8s-demo`.
//   - prebuild: builds the binaries of the integration tier before the
//     tests (`make test-bins`, the first step of `make test`).
package testing
