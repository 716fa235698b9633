package buildplan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// This file holds the rule that tells jbuild's own output from every other
// image, for both engines. It matters because wrapping an output again
// rebuilds it from its recorded base (an agent upgrade): an image that merely
// looks like an output (built FROM one, or carrying copied labels) must
// never be taken for one, or its own layers and settings would be dropped.

// LabelConfigDigest seals what jbuild wrote: "sha256:" + the hex SHA-256
// of a SealedConfig. It covers every field that decides how a container
// runs (env, labels, entrypoint, cmd, user, ...) and the layer structure
// (the base's diff IDs and the layer count), so an image built FROM a
// monitored image (a layer more, an ENV, a LABEL, a CMD) or edited with
// `crane mutate` no longer matches. The fields are ones every store and
// both engines keep as written (BuildKit rewrites history and diff IDs on
// export, but not these), so jbuild's own output matches whichever engine
// made it. It is not a signature: it only proves nothing changed since.
const LabelConfigDigest = "io.jbuild.config-digest"

// SealedConfig is what LabelConfigDigest covers. Engines fill it from
// their own config types.
type SealedConfig struct {
	User         string            `json:"user,omitempty"`
	Env          []string          `json:"env,omitempty"`
	Entrypoint   []string          `json:"entrypoint,omitempty"`
	Cmd          []string          `json:"cmd,omitempty"`
	WorkingDir   string            `json:"workingDir,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	ExposedPorts []string          `json:"exposedPorts,omitempty"`
	Volumes      []string          `json:"volumes,omitempty"`
	StopSignal   string            `json:"stopSignal,omitempty"`
	// Docker's own fields.
	Healthcheck []string `json:"healthcheck,omitempty"` // test, then interval, timeout, start period and retries
	OnBuild     []string `json:"onBuild,omitempty"`
	Shell       []string `json:"shell,omitempty"`
	// BaseDiffIDs are the layers below jbuild's two; Layers counts all.
	BaseDiffIDs []string `json:"baseDiffIds"`
	Layers      int      `json:"layers"`
}

// NewSealedConfig fills a SealedConfig from the OCI fields of a config,
// Docker's own fields (healthcheck as HealthcheckFields gives it) and the
// diff IDs of the layers below jbuild's two, bottom first.
func NewSealedConfig(c ocispec.ImageConfig, healthcheck, onBuild, shell []string, baseDiffIDs []string) SealedConfig {
	s := SealedConfig{
		User: c.User, Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd, WorkingDir: c.WorkingDir,
		Labels: c.Labels, StopSignal: c.StopSignal, Healthcheck: healthcheck, OnBuild: onBuild, Shell: shell,
		BaseDiffIDs: append([]string{}, baseDiffIDs...), Layers: len(baseDiffIDs) + 2,
	}
	for p := range c.ExposedPorts {
		s.ExposedPorts = append(s.ExposedPorts, p)
	}
	for v := range c.Volumes {
		s.Volumes = append(s.Volumes, v)
	}
	return s
}

// HealthcheckFields is how SealedConfig holds a Docker healthcheck.
func HealthcheckFields(test []string, interval, timeout, startPeriod time.Duration, retries int) []string {
	if test == nil && interval == 0 && timeout == 0 && startPeriod == 0 && retries == 0 {
		return nil
	}
	return append(slices.Clone(test), interval.String(), timeout.String(), startPeriod.String(), strconv.Itoa(retries))
}

// Seal returns the LabelConfigDigest value for c (its own label, if
// present in c.Labels, is left out).
func (c SealedConfig) Seal() string {
	if _, ok := c.Labels[LabelConfigDigest]; ok {
		labels := make(map[string]string, len(c.Labels))
		for k, v := range c.Labels {
			if k != LabelConfigDigest {
				labels[k] = v
			}
		}
		c.Labels = labels
	}
	sort.Strings(c.ExposedPorts)
	sort.Strings(c.Volumes)
	b, _ := json.Marshal(c) // strings, slices and maps of strings: cannot fail
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// OutputEvidence is what an engine read of an image to decide whether it is
// jbuild's output of its recorded base.
type OutputEvidence struct {
	// Labels of the image config.
	Labels map[string]string
	// SealedDigest is the Seal of the image's config as it is, with
	// BaseDiffIDs all diff IDs but the top two and Layers their count.
	SealedDigest string
	// DiffIDs are the config's rootfs diff IDs, bottom first, and Layers
	// the number of layers the manifest lists.
	DiffIDs []string
	Layers  int
	// BaseDiffIDs are the recorded base image's diff IDs, nil when the
	// base has not been looked up (or was not found).
	BaseDiffIDs []string
}

// Claims reports whether the labels claim the image is a jbuild output made
// from a recorded base (a wrap output, not a frontend one).
func (e OutputEvidence) Claims() bool {
	return e.Labels[LabelVersion] != "" && e.Labels[LabelBaseDigest] != ""
}

// CheckOwn checks what can be checked without the base: the config is the
// one jbuild sealed and its last two layers are the recorded agent and
// settings layers. A nil error means the image is, as far as it alone can
// tell, jbuild's output; otherwise the error says why it is not.
func (e OutputEvidence) CheckOwn() error {
	if !e.Claims() {
		return fmt.Errorf("it has no %s and %s labels", LabelVersion, LabelBaseDigest)
	}
	seal := e.Labels[LabelConfigDigest]
	if seal == "" {
		return fmt.Errorf("its config has no %s label (made by an older jbuild, or its labels were copied)", LabelConfigDigest)
	}
	if seal != e.SealedDigest {
		return fmt.Errorf("its config or layers changed after jbuild wrote it (%s does not match): an image built FROM a monitored image, or edited", LabelConfigDigest)
	}
	n := len(e.DiffIDs)
	if e.Layers != n {
		return fmt.Errorf("its manifest lists %d layers but its config %d", e.Layers, n)
	}
	if n < 2 {
		return fmt.Errorf("it has %d layers, fewer than jbuild adds", n)
	}
	// The BuildKit engine (`wrap --builder`) cannot know the settings
	// layer's diff ID (BuildKit makes the layer), nor the agent layer's
	// when it builds it from files: those labels are checked when present.
	if l := e.Labels[LabelLayer]; l != "" && e.DiffIDs[n-2] != l {
		return fmt.Errorf("its layer below the top is not the agent layer %s its labels name", shortDigest(l))
	}
	if l := e.Labels[LabelSettingsLayer]; l != "" && e.DiffIDs[n-1] != l {
		return fmt.Errorf("its top layer is not the settings layer %s its labels name", shortDigest(l))
	}
	return nil
}

// CheckBase completes CheckOwn once the recorded base was found: the
// image's layers are exactly the base's, then the agent and settings layers.
func (e OutputEvidence) CheckBase() error {
	if err := e.CheckOwn(); err != nil {
		return err
	}
	if e.BaseDiffIDs == nil {
		return fmt.Errorf("its recorded base was not read")
	}
	if len(e.DiffIDs) != len(e.BaseDiffIDs)+2 || !slices.Equal(e.DiffIDs[:len(e.BaseDiffIDs)], e.BaseDiffIDs) {
		return fmt.Errorf("its layers are not its recorded base's (%d layers) plus the agent and settings layers (it has %d)", len(e.BaseDiffIDs), len(e.DiffIDs))
	}
	return nil
}

func shortDigest(d string) string {
	if d == "" {
		return "none"
	}
	if _, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return d[:len(d)-len(hex)] + hex[:12]
	}
	return d
}
