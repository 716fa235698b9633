package agent

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// OpenAsync starts Open in the background and returns at once. The
// returned Source waits for it on first use and then behaves exactly like
// Open's result (errors included). Opening an agent folder reads and hashes
// every file, so the CLI starts it while the image to wrap is being read.
func OpenAsync(ctx context.Context, spec string, opts Options) Source {
	p := &pending{spec: spec, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.src, p.err = Open(ctx, spec, opts)
	}()
	return p
}

type pending struct {
	spec string
	done chan struct{}
	src  Source
	err  error
}

func (p *pending) wait(ctx context.Context) (Source, error) {
	select {
	case <-p.done:
		return p.src, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *pending) String() string {
	<-p.done
	if p.src != nil {
		return p.src.String()
	}
	if isURL(p.spec) {
		// The spec as typed may carry user:password or a token: callers
		// put String() in error messages (found by the CLI's credentials
		// test; the bundle's Source was already redacted).
		return redact(p.spec)
	}
	return p.spec
}

func (p *pending) Platforms(ctx context.Context) ([]v1.Platform, error) {
	s, err := p.wait(ctx)
	if err != nil {
		return nil, err
	}
	return s.Platforms(ctx)
}

func (p *pending) Bundle(ctx context.Context, platform *v1.Platform) (*Bundle, error) {
	s, err := p.wait(ctx)
	if err != nil {
		return nil, err
	}
	return s.Bundle(ctx, platform)
}
