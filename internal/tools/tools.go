//go:build tools

// Package tools pins the modules that jbuild's build and test tooling builds
// from source (buildkitd and crane for tests and benchmarks) and the daemon
// clients later packages use, so `go mod tidy` keeps them at the versions
// the project has verified together.
package tools

import (
	_ "github.com/containerd/containerd/v2/client"
	_ "github.com/docker/docker/client"
	_ "github.com/google/go-containerregistry/cmd/crane"
	_ "github.com/moby/buildkit/client"
	_ "github.com/moby/buildkit/cmd/buildkitd"
)
