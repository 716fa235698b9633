package testenv

import (
	"context"
	"fmt"
	"strings"

	bkclient "github.com/moby/buildkit/client"
)

// SolveLogged runs opt on c and, when the build fails, returns the error
// with the build's own log lines (what its steps printed) appended, so a
// failing test or demo shows why.
func SolveLogged(ctx context.Context, c *bkclient.Client, opt bkclient.SolveOpt) error {
	ch := make(chan *bkclient.SolveStatus)
	var logs strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		for st := range ch {
			for _, l := range st.Logs {
				logs.Write(l.Data)
			}
		}
	}()
	_, err := c.Solve(ctx, nil, opt, ch)
	<-done
	if err != nil {
		return fmt.Errorf("%w\n%s", err, logs.String())
	}
	return nil
}
