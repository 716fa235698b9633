package buildplan

import (
	"fmt"
	"maps"
	"slices"
	"time"

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

// ImageParts is what the apply step reads and writes of an image config,
// whichever engine holds it: the OCI fields, Docker's own fields (carried
// through untouched, read only for the seal), the history and the layers
// below jbuild's two. Engines map their own config types to and from it.
type ImageParts struct {
	Config ocispec.ImageConfig
	// Docker's own fields: the healthcheck as HealthcheckFields gives it,
	// ONBUILD and SHELL.
	Healthcheck, OnBuild, Shell []string
	// Created is the config's creation time (nil when it has none); the
	// history entries jbuild adds carry it, so the output is reproducible.
	Created *time.Time
	History []ocispec.History
	// BaseDiffIDs are the diff IDs of the layers below jbuild's, bottom
	// first (the base image's).
	BaseDiffIDs []string
	// Added is how many layers jbuild adds (or added) on top of
	// BaseDiffIDs: 2, the agent and the settings layer, or 1 when the plan
	// has no settings (Plan.AddedLayers; AddedLayers reads it back from a
	// history). 0 means 2.
	Added int
}

// added is in.Added with 0 meaning 2.
func (in ImageParts) added() int {
	if in.Added == 0 {
		return 2
	}
	return in.Added
}

// LayerDiffIDs are the diff IDs of jbuild's layers, each "" when the
// engine cannot know it (BuildKit makes the settings layer, and the agent
// layer too when it builds it from files) or there is none (a plan
// without settings adds no settings layer).
type LayerDiffIDs struct {
	Agent, Settings string
}

// ApplyImage is the config side of applying p, the one both engines call:
// the env merged, the plan's labels and the known layer labels set, the
// two history entries appended, and the config sealed
// (LabelConfigDigest) when the plan records a base digest, since an
// output that names its base is rebuilt from it on upgrade and unwrap and
// must prove it is jbuild's own. Every other field is returned as it came
// (copied, never aliased). Applying to an output of the same plan and
// layers changes nothing: the env is re-merged against itself, and the
// history entries are not added again when the history already ends with
// them and the labels already hold the plan's.
func ApplyImage(p *Plan, in ImageParts, layers LayerDiffIDs) ImageParts {
	out := in
	out.Config = copyConfig(in.Config)
	out.Healthcheck = slices.Clone(in.Healthcheck)
	out.OnBuild = slices.Clone(in.OnBuild)
	out.Shell = slices.Clone(in.Shell)
	out.BaseDiffIDs = slices.Clone(in.BaseDiffIDs)
	out.History = slices.Clone(in.History)
	out.Added = p.AddedLayers()

	out.Config.Env = p.ApplyEnv(in.Config.Env)
	out.Config.Labels = p.ApplyLabels(in.Config.Labels)
	for k, v := range map[string]string{LabelLayer: layers.Agent, LabelSettingsLayer: layers.Settings} {
		if v != "" {
			if out.Config.Labels == nil {
				out.Config.Labels = map[string]string{}
			}
			out.Config.Labels[k] = v
		}
	}
	if p.Labels[LabelBaseDigest] == "" && in.Config.Labels[LabelRestore] != "" && p.applied(in) {
		// Already this plan's output (a frontend that runs twice): the
		// record of what it changed stays the first one.
		out.Config.Env = slices.Clone(in.Config.Env)
		out.Config.Labels = maps.Clone(in.Config.Labels)
		return out
	}
	entries := p.History(in.Created)
	if !p.applied(in) {
		out.History = append(out.History, entries...)
	}
	if p.Labels[LabelBaseDigest] != "" {
		out.Config.Labels[LabelConfigDigest] = out.Sealed().Seal()
		return out
	}
	// No stored base to go back to (a Dockerfile build): record what
	// changed, and seal with the layer count the history gives, since
	// the builder has not computed any diff ID yet.
	out.Config.Labels[LabelRestore] = newRestore(in, out).label()
	out.Config.Labels[LabelConfigDigest] = out.InImageSealed(nonEmptyLayers(in.History) + out.Added).Seal()
	return out
}

// InImageSealed is the SealedConfig of an output whose base is rebuilt
// from the output itself (LabelRestore): it covers the layer count, not
// the base's diff IDs (a frontend cannot know them before the export).
func (in ImageParts) InImageSealed(layers int) SealedConfig {
	return NewSealedConfig(in.Config, in.Healthcheck, in.OnBuild, in.Shell, nil).InImage(layers)
}

// applied reports whether in already carries p's config: its labels hold
// the plan's and its history ends with the plan's entries.
func (p *Plan) applied(in ImageParts) bool {
	for k, v := range p.Labels {
		if in.Config.Labels[k] != v {
			return false
		}
	}
	entries := p.History(in.Created)
	n := len(in.History)
	if n < len(entries) {
		return false
	}
	for i, e := range entries {
		h := in.History[n-len(entries)+i]
		if h.CreatedBy != e.CreatedBy || h.Comment != e.Comment {
			return false
		}
	}
	return true
}

// Sealed is the SealedConfig of an image made of these parts and jbuild's
// layers (in.Added of them).
func (in ImageParts) Sealed() SealedConfig {
	s := NewSealedConfig(in.Config, in.Healthcheck, in.OnBuild, in.Shell, in.BaseDiffIDs)
	s.Layers = len(in.BaseDiffIDs) + in.added()
	return s
}

// AddedLayers is how many layers the plan adds: the agent layer, and the
// settings layer when there are settings (a config file, writable dirs);
// an empty settings layer is left out.
func (p *Plan) AddedLayers() int {
	if len(p.Settings) == 0 {
		return 1
	}
	return 2
}

// History comments of jbuild's layers; AddedLayers reads them back.
const (
	HistoryAgentLayer    = "jbuild agent layer"
	HistorySettingsLayer = "jbuild settings layer"
)

// AddedLayers is how many layers jbuild added to an output with these
// history comments (oldest first): 1 when its history ends with the agent
// layer's entry (a plan without settings), else 2. Outputs from before the
// empty settings layer was left out always have 2.
func AddedLayers(comments []string) int {
	if n := len(comments); n > 0 && comments[n-1] == HistoryAgentLayer {
		return 1
	}
	return 2
}

// History returns the history entries of jbuild's layers, agent layer
// first (the settings layer's only when the plan has settings), dated
// created (the zero time when nil).
func (p *Plan) History(created *time.Time) []ocispec.History {
	t := time.Time{}
	if created != nil {
		t = *created
	}
	version := p.Agent.Version
	if version == "" {
		version = "(version unknown)"
	}
	h := []ocispec.History{
		{Created: &t, CreatedBy: fmt.Sprintf("jbuild: %s agent %s at %s", p.Profile, version, p.InstallDir), Comment: HistoryAgentLayer},
	}
	if p.AddedLayers() == 2 {
		h = append(h, ocispec.History{Created: &t, CreatedBy: fmt.Sprintf("jbuild: %s settings for this image (config, writable dirs for %d:%d)", p.Profile, p.User.UID, p.User.GID), Comment: HistorySettingsLayer})
	}
	return h
}
