package runcheck

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// receiver is the throw-away server the run points the agent at.
type receiver interface {
	// reported is closed when the agent has reported as the kind says.
	reported() <-chan struct{}
	// report fills the Result's account of what the agent sent.
	report(ctx context.Context, res *Result)
	close()
}

var (
	_ receiver = (*server)(nil)
	_ receiver = (*httpReceiver)(nil)
)

func kindOf(c *buildplan.RunCheck) buildplan.RunCheckKind {
	if c == nil || c.Kind == "" {
		return buildplan.RunCheckTCP
	}
	return c.Kind
}

// newReceiver serves ln as the run check's kind says.
func newReceiver(ln net.Listener, opts Options) (receiver, error) {
	switch k := kindOf(opts.Check); k {
	case buildplan.RunCheckTCP:
		// An agent may take its time to speak after connecting (a loaded
		// machine, an agent that sends after its own start-up): what it
		// sends is waited for within the run's own time, not a shorter one.
		return serve(ln, time.Now().Add(opts.WaitFor)), nil
	case buildplan.RunCheckOTLPHTTP:
		return serveHTTP(ln, k, opts.Check.OTLPPaths()), nil
	case buildplan.RunCheckHTTP:
		return serveHTTP(ln, k, nil), nil
	default:
		return nil, fmt.Errorf("runcheck: unknown run check kind %q (want one of %v)", k, buildplan.RunCheckKinds)
	}
}
