package goimage

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Defaults of Options.
const (
	DefaultVersion = "dev"
	// DefaultHostCACerts is where Debian and Ubuntu keep the CA bundle.
	DefaultHostCACerts = "/etc/ssl/certs/ca-certificates.crt"
)

// DefaultPlatforms are built when Options.Platforms is empty.
var DefaultPlatforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
}

// Options say how to build a Spec.
type Options struct {
	// Dir is the module root go build runs in ("" = current directory).
	Dir string
	// Package is the main package (default the Spec's).
	Package string
	// Platforms (default DefaultPlatforms).
	Platforms []v1.Platform
	// Version goes into main.version (-X) and the version label (default
	// DefaultVersion). No white space or quotes.
	Version string
	// Revision is the VCS revision label of a Spec with BuildFacts; ""
	// leaves it out.
	Revision string
	// HostCACerts is the CA bundle of a Spec's HostCACerts file (default
	// DefaultHostCACerts).
	HostCACerts string
	// Created is the image's created time and every file's mtime; zero
	// means $SOURCE_DATE_EPOCH, else the Unix epoch.
	Created time.Time
	// Go is the go command (default "go").
	Go string
	// Log gets one line per compiled platform; Progress gets BuildKit's
	// display (Push only). nil discards.
	Log, Progress io.Writer
}

func (o Options) withDefaults(s Spec) (Options, error) {
	if s.binaryPath() == "" {
		return o, fmt.Errorf("spec %q has no Binary file", s.Name)
	}
	if o.Package == "" {
		o.Package = s.Package
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
	if o.HostCACerts == "" {
		o.HostCACerts = DefaultHostCACerts
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
