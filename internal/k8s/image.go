package k8s

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// Image is what rendering and linting know about one image.
type Image struct {
	// Ref is the image as the user named it.
	Ref string `json:"ref"`
	// Digest is the manifest digest of what Ref names (an index for a
	// multi-platform image), empty when not read.
	Digest string `json:"digest,omitempty"`
	// Reachable: the config below was read from the image itself; false
	// when it comes from flags (--offline) or the image could not be read.
	Reachable bool `json:"reachable"`
	// Labels of the image config.
	Labels map[string]string `json:"labels,omitempty"`
	// Profile is the profile io.jbuild.profile names (nil when it is not a
	// built-in one, or the image is not a monitored variant).
	Profile *buildplan.Profile `json:"-"`
	// User is the config's USER as written; UID and GID its numeric ids
	// when known (resolved through the image's /etc/passwd for a name).
	User     string `json:"user,omitempty"`
	UID, GID *int64 `json:"-"`
	// Ports are the exposed ports, lowest first, TCP before UDP.
	Ports []Port `json:"ports,omitempty"`
	// Env is the config's environment, NAME -> value.
	Env map[string]string `json:"-"`
	// Entrypoint and Cmd of the config.
	Entrypoint []string `json:"-"`
	Cmd        []string `json:"-"`
	// Archs are the CPU architectures the image has (one per platform).
	Archs []string `json:"archs,omitempty"`
	// Files reads the image's files (owners and modes of the agent
	// folder); nil when not available. Layers are read on first use.
	Files Files `json:"-"`
}

// Files is the part of an image's filesystem lint looks at.
type Files interface {
	Stat(path string) (fs.FileInfo, error)
	ReadDir(path string) ([]fs.DirEntry, error)
}

// Port is one exposed container port.
type Port struct {
	Number   int32  `json:"number"`
	Protocol string `json:"protocol"` // TCP, UDP or SCTP
}

// Monitored reports whether the image carries jbuild's labels.
func (i *Image) Monitored() bool {
	return i.Labels[buildplan.LabelProfile] != "" && i.Labels[buildplan.LabelVersion] != ""
}

// ProfileName is the io.jbuild.profile label.
func (i *Image) ProfileName() string { return i.Labels[buildplan.LabelProfile] }

// Volumes are the directories the io.jbuild.volumes label names: each needs
// a writable mount under a read-only root filesystem. An image made before
// the label existed falls back to the profile's (see ProfileVolumes).
func (i *Image) Volumes() []string {
	if v, ok := i.Labels[buildplan.LabelVolumes]; ok {
		return splitList(v)
	}
	if i.Profile != nil {
		return ProfileVolumes(i.Profile)
	}
	return nil
}

// ProfileVolumes is what a profile's images need writable when the image
// itself cannot be read: its logs directory (conf/ ships files, so a mount
// there would hide them) and its own volumes.
func ProfileVolumes(p *buildplan.Profile) []string {
	var out []string
	for _, d := range p.WritableDirs {
		if d == "logs" {
			out = append(out, path.Join(p.InstallDir, d))
		}
	}
	out = append(out, p.Volumes...)
	sort.Strings(out)
	return out
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// envMap turns KEY=VALUE lines into a map; later entries win, as in Docker.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		m[k] = v
	}
	return m
}
