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
	// BaseDiffIDs are the layers below jbuild's; Layers counts all.
	BaseDiffIDs []string `json:"baseDiffIds"`
	Layers      int      `json:"layers"`
}

// NewSealedConfig fills a SealedConfig from the OCI fields of a config,
// Docker's own fields (healthcheck as HealthcheckFields gives it) and the
// diff IDs of the layers below jbuild's two, bottom first (a plan without
// settings adds one: ImageParts.Sealed sets Layers from ImageParts.Added).
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

// InImage returns c as the seal of an output whose base is rebuilt from
// the output itself (LabelRestore) covers it: the layer count, no diff IDs.
func (c SealedConfig) InImage(layers int) SealedConfig {
	c.BaseDiffIDs, c.Layers = nil, layers
	return c
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
	// BaseDiffIDs all diff IDs but jbuild's (Added, as AddedLayers reads
	// them from the history) and Layers their count.
	SealedDigest string
	// Added is how many layers on top are jbuild's (AddedLayers of the
	// history comments); 0 means 2.
	Added int
	// DiffIDs are the config's rootfs diff IDs, bottom first, and Layers
	// the number of layers the manifest lists.
	DiffIDs []string
	Layers  int
	// BaseDiffIDs are the recorded base image's diff IDs, nil when the
	// base has not been looked up (or was not found).
	BaseDiffIDs []string
	// For an output that carries LabelRestore (its base is rebuilt from
	// it): InImageSealedDigest is the Seal of SealedConfig.InImage with
	// the layer count, and HistoryComments the comments of the config's
	// history entries, oldest first.
	InImageSealedDigest string
	HistoryComments     []string
}

// Claims reports whether the labels claim the image is a jbuild output: made
// from a recorded base (a wrap output) or carrying the record its base is
// rebuilt from (a frontend output).
func (e OutputEvidence) Claims() bool {
	return e.Labels[LabelVersion] != "" && (e.Labels[LabelBaseDigest] != "" || e.InImageBase())
}

// InImageBase reports whether the labels say the base is rebuilt from the
// image itself (a frontend output, LabelRestore) rather than stored.
func (e OutputEvidence) InImageBase() bool {
	return e.Labels[LabelBaseDigest] == "" && e.Labels[LabelRestore] != ""
}

// CheckOwn checks what can be checked without the base: the config is the
// one jbuild sealed and its top layers are the recorded agent and settings
// layers (the agent layer alone for a plan without settings). A nil error means the image is, as far as it alone can
// tell, jbuild's output; otherwise the error says why it is not.
func (e OutputEvidence) CheckOwn() error {
	if !e.Claims() {
		return fmt.Errorf("it has no %s and %s (or %s) labels", LabelVersion, LabelBaseDigest, LabelRestore)
	}
	if e.InImageBase() {
		return e.checkInImage(true)
	}
	seal := e.Labels[LabelConfigDigest]
	if seal == "" {
		return fmt.Errorf("its config has no %s label (made by an older jbuild, or its labels were copied)", LabelConfigDigest)
	}
	if seal != e.SealedDigest {
		return fmt.Errorf("its config or layers changed after jbuild wrote it (%s does not match): an image built FROM a monitored image, or edited", LabelConfigDigest)
	}
	n, added := len(e.DiffIDs), e.added()
	if e.Layers != n {
		return fmt.Errorf("its manifest lists %d layers but its config %d", e.Layers, n)
	}
	if n < added {
		return fmt.Errorf("it has %d layers, fewer than jbuild adds", n)
	}
	// The BuildKit engine (`wrap --builder`) cannot know the settings
	// layer's diff ID (BuildKit makes the layer), nor the agent layer's
	// when it builds it from files: those labels are checked when present.
	if l := e.Labels[LabelLayer]; l != "" && e.DiffIDs[n-added] != l {
		if added == 1 {
			return fmt.Errorf("its top layer is not the agent layer %s its labels name", shortDigest(l))
		}
		return fmt.Errorf("its layer below the top is not the agent layer %s its labels name", shortDigest(l))
	}
	l := e.Labels[LabelSettingsLayer]
	if added == 1 && l != "" {
		return fmt.Errorf("its labels name a settings layer %s but its history says jbuild added the agent layer alone", shortDigest(l))
	}
	if l != "" && e.DiffIDs[n-1] != l {
		return fmt.Errorf("its top layer is not the settings layer %s its labels name", shortDigest(l))
	}
	return nil
}

func (e OutputEvidence) added() int {
	if e.Added == 0 {
		return 2
	}
	return e.Added
}

// CheckBase completes CheckOwn once the recorded base was found: the
// image's layers are exactly the base's, then jbuild's.
func (e OutputEvidence) CheckBase() error {
	if err := e.CheckOwn(); err != nil {
		return err
	}
	if e.BaseDiffIDs == nil {
		return fmt.Errorf("its recorded base was not read")
	}
	if len(e.DiffIDs) != len(e.BaseDiffIDs)+e.added() || !slices.Equal(e.DiffIDs[:len(e.BaseDiffIDs)], e.BaseDiffIDs) {
		what := "the agent and settings layers"
		if e.added() == 1 {
			what = "the agent layer"
		}
		return fmt.Errorf("its layers are not its recorded base's (%d layers) plus %s (it has %d)", len(e.BaseDiffIDs), what, len(e.DiffIDs))
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

// checkInImage is CheckOwn for an output that carries LabelRestore: the
// seal over its config and layer count holds, and its top layers and
// history entries are the ones the record says jbuild added.
// Before the export (layersKnown false) there are no diff IDs to check.
func (e OutputEvidence) checkInImage(layersKnown bool) error {
	r, err := ParseRestore(e.Labels)
	if err != nil {
		return err
	}
	seal := e.Labels[LabelConfigDigest]
	if seal == "" {
		return fmt.Errorf("its config has no %s label (its labels were copied)", LabelConfigDigest)
	}
	if seal != e.InImageSealedDigest {
		return fmt.Errorf("its config or layer count changed after jbuild wrote it (%s does not match): an image built FROM a monitored image, or edited", LabelConfigDigest)
	}
	if n := len(e.DiffIDs); layersKnown {
		if e.Layers != n {
			return fmt.Errorf("its manifest lists %d layers but its config %d", e.Layers, n)
		}
		if n < r.Layers {
			return fmt.Errorf("it has %d layers, fewer than the %d jbuild added", n, r.Layers)
		}
		if l := e.Labels[LabelLayer]; l != "" && e.DiffIDs[n-r.Layers] != l {
			return fmt.Errorf("its layer %d from the top is not the agent layer %s its labels name", r.Layers, shortDigest(l))
		}
	}
	h := e.HistoryComments
	if len(h) < r.History {
		return fmt.Errorf("its history has %d entries, fewer than the %d jbuild added", len(h), r.History)
	}
	for i, c := range h[len(h)-r.History:] {
		if !strings.HasPrefix(c, "jbuild ") {
			return fmt.Errorf("its history entry %d from the top (%q) is not jbuild's", r.History-i, c)
		}
	}
	return nil
}

// CheckOutputConfig is the rule for a config a builder hands on before it
// is exported (the frontend's view: no manifest, and for a Dockerfile
// build no diff IDs yet): an output whose base is stored is checked with
// the diff IDs the config lists; one whose base is rebuilt from it, with
// the layer count its history gives.
func CheckOutputConfig(in ImageParts, diffIDs []string) error {
	e := OutputEvidence{Labels: in.Config.Labels, HistoryComments: HistoryComments(in.History)}
	if e.InImageBase() {
		e.InImageSealedDigest = in.InImageSealed(nonEmptyLayers(in.History)).Seal()
		return e.checkInImage(false)
	}
	n := len(diffIDs)
	in.Added = AddedLayers(e.HistoryComments)
	in.BaseDiffIDs = diffIDs[:max(0, n-in.Added)]
	e.SealedDigest, e.DiffIDs, e.Layers, e.Added = in.Sealed().Seal(), diffIDs, n, in.Added
	return e.CheckOwn()
}

// HistoryComments lists the comments of history entries, oldest first.
func HistoryComments(h []ocispec.History) []string {
	out := make([]string, len(h))
	for i, e := range h {
		out[i] = e.Comment
	}
	return out
}
