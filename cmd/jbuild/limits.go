package main

import (
	"context"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/internal/agent"
)

// limitHints is an agent source whose limit errors name the flag that
// raises the limit: the agent package knows the limit, not the interface
// (the frontend has no such flag).
type limitHints struct{ agent.Source }

var _ agent.Source = limitHints{}

func (s limitHints) Platforms(ctx context.Context) ([]v1.Platform, error) {
	p, err := s.Source.Platforms(ctx)
	return p, withLimitFlag(err)
}

func (s limitHints) Bundle(ctx context.Context, platform *v1.Platform) (*agent.Bundle, error) {
	b, err := s.Source.Bundle(ctx, platform)
	return b, withLimitFlag(err)
}

func withLimitFlag(err error) error {
	var le *agent.LimitError
	if !errors.As(err, &le) {
		return err
	}
	flag := "--agent-max-size"
	if le.Entries {
		flag = "--agent-max-entries"
	}
	return fmt.Errorf("%w (if you trust this agent, raise the limit with %s)", err, flag)
}
