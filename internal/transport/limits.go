package transport

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// MaxConfigSize caps the image config jbuild reads. A config holds the
// env, labels, entrypoint and history of an image and is a few KiB (a few
// hundred KiB with a long history); registries cap whole manifests at a few
// MiB. Every reader (go-containerregistry's, the wrap engine's) holds the
// config in memory and parses it more than once: a 50 MB config took 20 s
// and 805 MB of memory to wrap. So a config past the cap is refused before
// it is read, by the size its manifest declares (a layout's blobs and a
// registry's responses are checked against that size).
const MaxConfigSize = 8 << 20

// CheckConfigSize refuses an image whose manifest declares a config larger
// than MaxConfigSize; what names the image. It reads the manifest only,
// which every store has at hand once it returned the image, so callers can
// check an index's images before reading their configs.
func CheckConfigSize(what string, img v1.Image) error {
	m, err := img.Manifest()
	if err != nil {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	return checkConfigSize(what, m.Config.Size)
}

// checkLoadedConfig is CheckConfigSize for images that read their config
// when they are made (a `docker save` archive through go-containerregistry's
// tarball package, whose manifest is computed by compressing the layers):
// the config was read once, and is refused before anything parses it.
func checkLoadedConfig(what string, img v1.Image) error {
	raw, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("reading %s: %w", what, err)
	}
	return checkConfigSize(what, int64(len(raw)))
}

func checkConfigSize(what string, size int64) error {
	if size >= 0 && size <= MaxConfigSize {
		return nil
	}
	return fmt.Errorf("%s: the image config is %.1f MiB, more than the %d MiB jbuild reads: a config holds env, labels and history and is a few KiB; rebuild the image without the oversized labels or history", what, float64(size)/(1<<20), MaxConfigSize>>20)
}
