package buildplan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// This file holds the rule that tells jbuild's own output from every other
// image, for both engines. It matters because wrapping an output again
// rebuilds it from its recorded base (an agent upgrade): an image that merely
// looks like an output (built FROM one, or carrying copied labels) must
// never be taken for one, or its own layers and settings would be dropped.

// LabelConfigDigest seals the config jbuild wrote: "sha256:" + the hex
// SHA-256 of the config as the engine serializes it with this label set to
// the empty string. Any later change to the config (a Dockerfile's FROM,
// ENV, LABEL, CMD or COPY, `crane mutate`) changes that digest, so a derived
// image is never mistaken for jbuild's output. It is not a signature: it
// only proves the config is unchanged since jbuild wrote it.
const LabelConfigDigest = "io.jbuild.config-digest"

// ConfigDigest is the value LabelConfigDigest must hold for a config whose
// serialization (with that label empty) is sealedConfig.
func ConfigDigest(sealedConfig []byte) string {
	sum := sha256.Sum256(sealedConfig)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// OutputEvidence is what an engine read of an image to decide whether it is
// jbuild's output of its recorded base.
type OutputEvidence struct {
	// Labels of the image config.
	Labels map[string]string
	// SealedDigest is ConfigDigest of the image's config serialized with
	// LabelConfigDigest empty.
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
		return fmt.Errorf("its config was changed after jbuild wrote it (%s does not match): an image built FROM a monitored image, or edited", LabelConfigDigest)
	}
	n := len(e.DiffIDs)
	if e.Layers != n {
		return fmt.Errorf("its manifest lists %d layers but its config %d", e.Layers, n)
	}
	if n < 2 || e.DiffIDs[n-2] != e.Labels[LabelLayer] || e.DiffIDs[n-1] != e.Labels[LabelSettingsLayer] {
		return fmt.Errorf("its top layers are not the agent layer (%s) and the settings layer (%s) its labels name", shortDigest(e.Labels[LabelLayer]), shortDigest(e.Labels[LabelSettingsLayer]))
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
