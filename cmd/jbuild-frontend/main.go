// Command jbuild-frontend is jbuild's BuildKit frontend: put
// `# syntax=<registry>/jbuild/frontend:<version>` at the top of a Dockerfile
// and BuildKit builds it exactly as its own Dockerfile frontend does, then
// adds the agent to the final stage. All logic lives in package frontend.
package main

import (
	"fmt"
	"os"

	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"

	"github.com/jbuild-dev/jbuild/frontend"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

func main() {
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
