package frontendimage

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Defaults of Options.
const (
	DefaultPackage = "./cmd/jbuild-frontend"
	DefaultVersion = "dev"
	// EntrypointPath is where the frontend binary lives in the image.
	EntrypointPath = "/bin/jbuild-frontend"
	// Title is the image's org.opencontainers.image.title.
	Title = "jbuild-frontend"
)

// Labels BuildKit reads from a frontend image, as on BuildKit's own
// docker/dockerfile images: the frontend runs without network, and it may
// use frontend inputs, subrequests and named contexts.
const (
	LabelNetworkNone = "moby.buildkit.frontend.network.none"
	LabelCaps        = "moby.buildkit.frontend.caps"
	Caps             = "moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
	LabelTitle       = "org.opencontainers.image.title"
	LabelVersion     = "org.opencontainers.image.version"
)

// DefaultPlatforms are the platforms Build compiles for when none are given.
var DefaultPlatforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
}

// Options says what Build compiles and how it labels the result.
type Options struct {
	// Dir is the directory go build runs in (the module root);
	// "" means the current directory.
	Dir string
	// Package is the main package to compile (default DefaultPackage).
	Package string
	// Platforms to build (default DefaultPlatforms).
	Platforms []v1.Platform
	// Version goes into main.version (-X) and the version label
	// (default DefaultVersion). No white space.
	Version string
	// Created is the config's created time and the layer's file times.
	// Zero means $SOURCE_DATE_EPOCH, else the Unix epoch.
	Created time.Time
	// Go is the go command (default "go").
	Go string
	// Log receives one line per compiled platform; nil discards them.
	Log io.Writer
}

func (o Options) withDefaults() (Options, error) {
	if o.Package == "" {
		o.Package = DefaultPackage
	}
	if len(o.Platforms) == 0 {
		o.Platforms = DefaultPlatforms
	}
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if strings.ContainsAny(o.Version, " \t\n'\"") {
		return o, fmt.Errorf("version %q: must not contain white space or quotes", o.Version)
	}
	if o.Created.IsZero() {
		t, err := sourceDateEpoch()
		if err != nil {
			return o, err
		}
		o.Created = t
	}
	if o.Go == "" {
		o.Go = "go"
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o, nil
}

// sourceDateEpoch is $SOURCE_DATE_EPOCH (reproducible-builds.org), else
// the Unix epoch.
func sourceDateEpoch() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", v, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// Build compiles the frontend for every platform of opts and returns the
// OCI image index of the frontend images. The images are held in memory;
// push them with remote.WriteIndex.
func Build(ctx context.Context, opts Options) (v1.ImageIndex, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("building frontend image: %w", err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var adds []mutate.IndexAddendum
	for _, p := range opts.Platforms {
		start := time.Now()
		bin, err := compile(ctx, opts, p)
		if err != nil {
			return nil, fmt.Errorf("building frontend image: %w", err)
		}
		img, err := platformImage(bin, p, opts)
		if err != nil {
			return nil, fmt.Errorf("building frontend image for %s: %w", p, err)
		}
		fmt.Fprintf(opts.Log, "frontendimage: %s: compiled %s (%d MB) in %s\n",
			p, opts.Package, len(bin)>>20, time.Since(start).Round(100*time.Millisecond))
		p := p
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return mutate.AppendManifests(idx, adds...), nil
}

// platformImage is the single-layer image of one platform's binary.
func platformImage(bin []byte, p v1.Platform, opts Options) (v1.Image, error) {
	layer, err := binaryLayer(bin, opts.Created)
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: opts.Created}
	cfg := &v1.ConfigFile{
		Architecture: p.Architecture,
		OS:           p.OS,
		Variant:      p.Variant,
		Created:      created,
		Config: v1.Config{
			Entrypoint: []string{EntrypointPath},
			Labels: map[string]string{
				LabelNetworkNone: "true",
				LabelCaps:        Caps,
				LabelTitle:       Title,
				LabelVersion:     opts.Version,
			},
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.ConfigFile(base, cfg)
	if err != nil {
		return nil, err
	}
	return mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{
		Created:   created,
		CreatedBy: "jbuild frontendimage: " + EntrypointPath + " " + opts.Version,
	}})
}
