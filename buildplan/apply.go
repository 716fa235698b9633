package buildplan

import (
	"maps"
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ApplyConfig returns a copy of cfg with the plan's environment merged in and
// its labels set. The env operations are re-merged against cfg itself rather
// than copying the plan's After values, so applying to a config that already
// carries the plan (a jbuild output, a frontend that runs twice) changes
// nothing. Entrypoint, Cmd, User, WorkingDir, ports, volumes, healthcheck and
// stop signal are never touched: the application starts exactly as before.
func ApplyConfig(p *Plan, cfg ocispec.ImageConfig) ocispec.ImageConfig {
	out := copyConfig(cfg)
	out.Env = p.ApplyEnv(cfg.Env)
	out.Labels = p.ApplyLabels(cfg.Labels)
	return out
}

// copyConfig deep-copies every reference field so the caller's config is
// never aliased.
func copyConfig(c ocispec.ImageConfig) ocispec.ImageConfig {
	out := c
	out.Env = slices.Clone(c.Env)
	out.Entrypoint = slices.Clone(c.Entrypoint)
	out.Cmd = slices.Clone(c.Cmd)
	if c.ExposedPorts != nil {
		out.ExposedPorts = make(map[string]struct{}, len(c.ExposedPorts))
		for k := range c.ExposedPorts {
			out.ExposedPorts[k] = struct{}{}
		}
	}
	if c.Volumes != nil {
		out.Volumes = make(map[string]struct{}, len(c.Volumes))
		for k := range c.Volumes {
			out.Volumes[k] = struct{}{}
		}
	}
	return out
}

// ApplyEnv returns env with the plan's operations merged in. Engines whose
// config type is not ocispec.ImageConfig (go-containerregistry's v1.Config,
// which also carries Healthcheck, OnBuild and Shell) use ApplyEnv and
// ApplyLabels on their own struct so those fields survive.
func (p *Plan) ApplyEnv(env []string) []string {
	out, _ := MergeEnv(env, p.Env)
	return out
}

// ApplyLabels returns a copy of labels with the plan's labels set.
func (p *Plan) ApplyLabels(labels map[string]string) map[string]string {
	out := maps.Clone(labels)
	if out == nil && len(p.Labels) > 0 {
		out = map[string]string{}
	}
	maps.Copy(out, p.Labels)
	return out
}
