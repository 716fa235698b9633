// Command echofrontend is a minimal BuildKit gateway frontend for the
// goimage tests: its result is a scratch image holding /hello, which
// names the frontend version and the filename option it was called with.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"
)

var version = "dev"

func main() {
	if err := grpcclient.RunFromEnvironment(appcontext.Context(), build); err != nil {
		fmt.Fprintln(os.Stderr, "echofrontend:", err)
		os.Exit(1)
	}
}

func build(ctx context.Context, c client.Client) (*client.Result, error) {
	msg := fmt.Sprintf("hello from echofrontend %s\n", version)
	def, err := llb.Scratch().File(llb.Mkfile("/hello", 0o644, []byte(msg))).Marshal(ctx)
	if err != nil {
		return nil, err
	}
	return c.Solve(ctx, client.SolveRequest{Definition: def.ToPB(), Evaluate: true})
}
