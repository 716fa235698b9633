package buildplan

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// LabelRestore records, in an output whose base image was never stored
// anywhere (a Dockerfile build through the frontend), what the apply step
// changed, so the base can be rebuilt from the output itself: its layers
// but jbuild's top ones, its config with the values before. Unwrap writes
// that base (for a BuildKit build, the very image the same Dockerfile builds
// without the agent, byte for byte), and an agent upgrade starts from it.
// Outputs that name a stored base (LabelBaseDigest) do not need it.
const LabelRestore = "io.jbuild.restore"

// Restore is the content of LabelRestore.
type Restore struct {
	// Env is the config's env before (nil: it had none).
	Env []string `json:"env"`
	// Labels holds every label the apply step set, with its value before
	// (nil: the label was not there). LabelRestore is always among them.
	Labels map[string]*string `json:"labels"`
	// Layers and History count the layers and history entries jbuild
	// added on top.
	Layers  int `json:"layers"`
	History int `json:"history"`
	// NoCreated: the config had no creation time before (the image
	// exporter then derives one from the history).
	NoCreated bool `json:"noCreated,omitempty"`
}

// ParseRestore reads LabelRestore from an image's labels; nil when the image
// has none.
func ParseRestore(labels map[string]string) (*Restore, error) {
	v, ok := labels[LabelRestore]
	if !ok {
		return nil, nil
	}
	var r Restore
	if err := json.Unmarshal([]byte(v), &r); err != nil {
		return nil, fmt.Errorf("label %s: %w", LabelRestore, err)
	}
	if r.Layers < 1 || r.History < 0 || r.History > r.Layers+1 {
		return nil, fmt.Errorf("label %s: %d layers and %d history entries are not what jbuild adds", LabelRestore, r.Layers, r.History)
	}
	if _, ok := r.Labels[LabelRestore]; !ok {
		return nil, fmt.Errorf("label %s does not record itself among the labels it restores", LabelRestore)
	}
	return &r, nil
}

// newRestore records what ApplyImage changed from in to out, out's labels
// being final but for LabelRestore and LabelConfigDigest (both always set).
func newRestore(in, out ImageParts) Restore {
	r := Restore{
		Env:       slices.Clone(in.Config.Env),
		Labels:    map[string]*string{},
		Layers:    out.added(),
		History:   len(out.History) - len(in.History),
		NoCreated: in.Created == nil,
	}
	keys := []string{LabelRestore, LabelConfigDigest}
	for k, v := range out.Config.Labels {
		if old, ok := in.Config.Labels[k]; !ok || old != v {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		if old, ok := in.Config.Labels[k]; ok {
			r.Labels[k] = &old
		} else {
			r.Labels[k] = nil
		}
	}
	return r
}

func (r Restore) label() string {
	b, _ := json.Marshal(r) // strings, ints and bools: cannot fail
	return string(b)
}

// RestoreEnv returns the env before.
func (r *Restore) RestoreEnv() []string { return slices.Clone(r.Env) }

// RestoreLabels returns labels with every label jbuild set back to its
// value before (removed if it had none); nil when none are left.
func (r *Restore) RestoreLabels(labels map[string]string) map[string]string {
	out := maps.Clone(labels)
	for k, old := range r.Labels {
		if old == nil {
			delete(out, k)
		} else {
			out[k] = *old
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// RestoreHistory returns the history without jbuild's entries.
func (r *Restore) RestoreHistory(h []ocispec.History) ([]ocispec.History, error) {
	if len(h) < r.History {
		return nil, fmt.Errorf("its history has %d entries, fewer than the %d jbuild added", len(h), r.History)
	}
	return slices.Clone(h[:len(h)-r.History]), nil
}

// nonEmptyLayers counts the history entries that made a layer.
func nonEmptyLayers(h []ocispec.History) int {
	n := 0
	for _, e := range h {
		if !e.EmptyLayer {
			n++
		}
	}
	return n
}
