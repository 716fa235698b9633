package wrap

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// Options configure a plan or a wrap.
type Options struct {
	// Agent is where the agent files come from; required.
	Agent agent.Source
	// Profile forces a profile; nil picks the one whose markers match the
	// agent bundle, else the one for the detected runtime.
	Profile *buildplan.Profile
	// Plan carries the user's settings (server address, runtime override...).
	Plan buildplan.Options
	// Platforms restricts which platforms of an index are wrapped; the
	// others are left out of the result. Empty means all.
	Platforms []v1.Platform
	// Force replaces a target that is not jbuild's output of this source.
	Force bool
	// Layer configures the agent layer (epoch, cache).
	Layer agentlayer.Options
	// LayerFilesCache is where what each image layer holds is remembered
	// (imagefs.WithCache), so a base's layers are read once per machine;
	// "" reads every layer each time.
	LayerFilesCache string
	// Stores opens stores for references the engine discovers itself (the
	// base named in a wrapped image's labels).
	Stores transport.Options
	// Notef receives notes for the user (dropped attestations, upgrades).
	Notef func(format string, args ...any)

	// downloading runs when planning starts downloading image layers
	// (imagefs.WithDownloadStart); set by wrapTo.
	downloading func()
}

func (o *Options) notef(format string, args ...any) {
	if o.Notef != nil {
		o.Notef(format, args...)
	}
}

// PlatformResult is the outcome for one platform.
type PlatformResult struct {
	Platform v1.Platform     `json:"platform"`
	Plan     *buildplan.Plan `json:"plan"`
	// Digest of the wrapped platform manifest (wrap only).
	Digest v1.Hash `json:"digest,omitempty"`
	// Layer is the agent layer's digest (the same for every image wrapped
	// with this agent); SettingsLayer the per-image settings layer's, nil
	// when the plan has no settings and so no settings layer.
	Layer         v1.Hash  `json:"agentLayer,omitempty"`
	SettingsLayer *v1.Hash `json:"settingsLayer,omitempty"`
}

// Result describes what a plan or a wrap did.
type Result struct {
	Source       string `json:"source"`
	SourceDigest string `json:"sourceDigest"`
	// Base is the image the agent is added to: the source itself, or for a
	// jbuild output (agent upgrade) the original image it was made from.
	Base       string `json:"base"`
	BaseDigest string `json:"baseDigest"`
	Upgrade    bool   `json:"upgrade,omitempty"`
	Target     string `json:"target,omitempty"`
	// TargetDigest is the digest written (wrap only).
	TargetDigest string `json:"targetDigest,omitempty"`
	// Unchanged: the target already held exactly this image; nothing written.
	Unchanged bool             `json:"unchanged,omitempty"`
	Platforms []PlatformResult `json:"platforms"`
	// Dropped lists index entries left out (attestations that describe the
	// unwrapped images, platforms not selected).
	Dropped []string `json:"dropped,omitempty"`
}
