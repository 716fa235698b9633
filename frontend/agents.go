package frontend

import (
	"context"
	"sync"

	"github.com/containerd/platforms"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// agentLoader loads the agent once per platform, in the background: a build
// starts the loads before it solves the Dockerfile, so resolving, pulling
// and listing the agent image overlap the build instead of following it.
type agentLoader struct {
	ctx context.Context // the build's; loads outlive the caller of get
	c   gwclient.Client
	s   *Settings
	// failed is told the first load error, so the build can stop at once
	// rather than finish a Dockerfile whose result cannot be used.
	failed func(error)

	mu       sync.Mutex
	loads    map[string]*agentLoad
	firstErr error
}

type agentLoad struct {
	done chan struct{}
	in   *agentInput
	err  error
}

func newAgentLoader(ctx context.Context, c gwclient.Client, s *Settings, failed func(error)) *agentLoader {
	if failed == nil {
		failed = func(error) {}
	}
	return &agentLoader{ctx: ctx, c: c, s: s, failed: failed, loads: map[string]*agentLoad{}}
}

// start begins loading the agent for p unless that is under way or done.
func (a *agentLoader) start(p ocispecs.Platform) *agentLoad {
	key := platforms.FormatAll(platforms.Normalize(p))
	a.mu.Lock()
	defer a.mu.Unlock()
	if l, ok := a.loads[key]; ok {
		return l
	}
	l := &agentLoad{done: make(chan struct{})}
	a.loads[key] = l
	go func() {
		defer close(l.done)
		l.in, l.err = loadAgent(a.ctx, a.c, a.s, p)
		if l.err != nil {
			a.mu.Lock()
			if a.firstErr == nil {
				a.firstErr = l.err
			}
			a.mu.Unlock()
			a.failed(l.err)
		}
	}()
	return l
}

// get waits for the agent of p, starting its load if no one has.
func (a *agentLoader) get(ctx context.Context, p ocispecs.Platform) (*agentInput, error) {
	l := a.start(p)
	select {
	case <-l.done:
		return l.in, l.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// ready returns the agent of p if its load has finished without an error,
// without waiting or starting one.
func (a *agentLoader) ready(p ocispecs.Platform) (*agentInput, bool) {
	a.mu.Lock()
	l, ok := a.loads[platforms.FormatAll(platforms.Normalize(p))]
	a.mu.Unlock()
	if !ok {
		return nil, false
	}
	select {
	case <-l.done:
		return l.in, l.err == nil
	default:
		return nil, false
	}
}

// err is the first load error, if a load has failed.
func (a *agentLoader) err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.firstErr
}
