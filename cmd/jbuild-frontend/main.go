// Command jbuild-frontend is jbuild's BuildKit frontend: put
// `# syntax=<registry>/jbuild/frontend:<version>` at the top of a Dockerfile
// and BuildKit builds it exactly as its own Dockerfile frontend does, then
// adds the agent to the final stage. All logic lives in package frontend.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"

	"github.com/jbuild-dev/jbuild/frontend"
)

// gcMemoryLimit is the heap size past which the collector runs.
const gcMemoryLimit = 512 << 20

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	// A frontend process lives for one build step, tens of milliseconds,
	// with a heap of a few MB: collecting garbage there is all overhead
	// (the bench's warm build: a sixth of the frontend's CPU, on the cores
	// buildkitd needs). The collector runs only past a soft limit no
	// ordinary build comes near.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(gcMemoryLimit)
	if len(os.Args) > 1 && os.Args[1] == frontend.IndexAgentCommand {
		// The step the frontend runs on a local agent folder (its own image,
		// the folder mounted): see frontend/agentindex.go.
		if err := frontend.IndexAgentMain(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "jbuild-frontend:", err)
			os.Exit(1)
		}
		return
	}
	frontend.Version = version
	if err := grpcclient.RunFromEnvironment(appcontext.Context(), frontend.Build); err != nil {
		fmt.Fprintln(os.Stderr, "jbuild-frontend:", err)
		os.Exit(1)
	}
}
