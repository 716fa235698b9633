package agent

import (
	"context"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Memo returns src with each platform's bundle read once: a caller that
// looks at the bundle before wrapping (the CLI choosing the default target
// from the bundle's profile) does not make the wrap read and hash the agent
// again.
func Memo(src Source) Source {
	if _, ok := src.(*memo); ok {
		return src
	}
	return &memo{Source: src, bundles: map[string]*memoBundle{}}
}

type memo struct {
	Source
	mu      sync.Mutex
	bundles map[string]*memoBundle
}

type memoBundle struct {
	once sync.Once
	b    *Bundle
	err  error
}

func (m *memo) Bundle(ctx context.Context, p *v1.Platform) (*Bundle, error) {
	key := ""
	if p != nil {
		key = p.String()
	}
	m.mu.Lock()
	e, ok := m.bundles[key]
	if !ok {
		e = &memoBundle{}
		m.bundles[key] = e
	}
	m.mu.Unlock()
	e.once.Do(func() { e.b, e.err = m.Source.Bundle(ctx, p) })
	return e.b, e.err
}
