package buildplan

import "encoding/json"

// Labels jbuild writes into the monitored image's config. They let anyone
// (and jbuild itself, for `unwrap` and agent upgrades) tell what was added
// to which base without external bookkeeping.
const (
	// LabelBaseName is the OCI annotation for the image this one was made
	// from: the source reference as the user named it.
	LabelBaseName = "org.opencontainers.image.base.name"
	// LabelBaseDigest is the manifest digest of that source image; `jbuild
	// unwrap` gives it back exactly.
	LabelBaseDigest = "org.opencontainers.image.base.digest"
	// LabelVersion is the jbuild version that made the image.
	LabelVersion = "io.jbuild.version"
	// LabelAgent names the agent product ("JENNIFER").
	LabelAgent = "io.jbuild.agent"
	// LabelAgentVersion is the agent version found in the bundle.
	LabelAgentVersion = "io.jbuild.agent.version"
	// LabelAgentDigest identifies the agent bundle content (see Agent.Digest).
	LabelAgentDigest = "io.jbuild.agent.digest"
	// LabelRuntime is the runtime the agent was attached to (java, ...).
	LabelRuntime = "io.jbuild.runtime"
	// LabelProfile names the profile used (jennifer-java, ...).
	LabelProfile = "io.jbuild.profile"
	// LabelLayer is the diffID of the agent layer; the engine sets it once
	// the layer is built (it is not known while planning), and uses it to
	// find and replace the layer on upgrade or remove it on unwrap.
	LabelLayer = "io.jbuild.layer"
	// LabelSettingsLayer is the diffID of the per-image settings layer
	// (generated config, writable dirs) that sits on top of the agent layer.
	LabelSettingsLayer = "io.jbuild.settings-layer"
	// LabelVolumes lists, comma-separated, the directories that need a
	// writable mount under a read-only root filesystem (Plan.Volumes).
	LabelVolumes = "io.jbuild.volumes"
	// LabelConfig is the absolute path of the agent config file the
	// settings layer writes (Plan.ConfigFile), for `jbuild verify --run`.
	LabelConfig = "io.jbuild.config"
	// LabelProfileDoc is the profile the image was made with, as canonical
	// JSON (ProfileDoc), so verify, the run check, `jbuild k8s` and
	// upgrades know a user's profile without its file, and a built-in one
	// as it was then.
	LabelProfileDoc = "io.jbuild.profile-doc"
)

// ProfileDoc is the LabelProfileDoc value of prof: its JSON, without where
// it was read from (a path on one machine).
func ProfileDoc(prof *Profile) string {
	c := *prof
	c.Source = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return ""
	}
	return string(b)
}

// ProfileFromLabels reads LabelProfileDoc; nil when the image has none.
func ProfileFromLabels(labels map[string]string) (*Profile, error) {
	doc := labels[LabelProfileDoc]
	if doc == "" {
		return nil, nil
	}
	return ParseProfile([]byte(doc), "the image's "+LabelProfileDoc+" label")
}

// planLabels computes the labels of a plan; empty values are left out
// rather than written as empty strings.
func planLabels(img Image, prof *Profile, agent Agent, rt Runtime, opts Options) map[string]string {
	base := opts.BaseName
	if base == "" {
		base = img.Reference
	}
	// The product name comes from the profile, never from the bundle: a
	// bundle's own name depends on how it was packaged (a folder name, an
	// archive name), and the same agent must give the same image whether it
	// came from a folder, a zip or an agent image.
	name := prof.Agent
	all := map[string]string{
		LabelBaseName:     base,
		LabelBaseDigest:   img.Digest,
		LabelVersion:      opts.JbuildVersion,
		LabelAgent:        name,
		LabelAgentVersion: agent.Version,
		LabelAgentDigest:  agent.Digest,
		LabelRuntime:      string(rt),
		LabelProfile:      prof.Name,
		LabelProfileDoc:   ProfileDoc(prof),
	}
	out := map[string]string{}
	for k, v := range all {
		if v != "" {
			out[k] = v
		}
	}
	return out
}
