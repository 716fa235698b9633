// Command prebuild builds, before the tests run, every binary the
// integration tier builds from a Go module and caches per machine
// (buildkitd, buildx, the docker CLI and dockerd of Docker Engine 28.5,
// k3s and metrics-server; see internal/testing/testenv and
// internal/testing/k8scluster). `make test` runs it first: on a cold
// machine these builds take most of half an hour on 2 cores, and done one
// after the other here, with the whole machine, they neither compete with
// the test packages nor count against a test package's timeout. On a warm
// machine each is a version check.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/jbuild-dev/jbuild/internal/testing/k8scluster"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

func main() {
	failed := false
	for _, b := range []struct {
		name  string
		build func() (string, error)
	}{
		{"buildkitd", testenv.BuildkitdBinary},
		{"buildx", testenv.BuildxBinary},
		{"docker CLI", testenv.DockerCLIBinary},
		{"dockerd", testenv.DockerdCurrentBinary},
		{"k3s", k8scluster.K3sBinary},
		{"metrics-server", k8scluster.MetricsServerBinary},
	} {
		start := time.Now()
		path, err := b.build()
		if err != nil {
			// The test that needs it fails with the same error and what to
			// do; the others still run.
			fmt.Fprintf(os.Stderr, "prebuild: %s: %v\n", b.name, err)
			failed = true
			continue
		}
		fmt.Printf("prebuild: %s %s (%.1fs)\n", b.name, path, time.Since(start).Seconds())
	}
	if failed {
		fmt.Fprintln(os.Stderr, "prebuild: some binaries could not be built; the tests that need them will say why")
	}
}
