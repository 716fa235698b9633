package goimage

import (
	"maps"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Config is the image config of platform p: the spec's user, entrypoint
// (its binary), command, environment, working directory and labels, the
// title and version labels, one history entry for the layer, and
// opts.Created as the created time. opts has its defaults filled in.
func (s Spec) Config(p v1.Platform, opts Options) ocispecs.Image {
	labels := maps.Clone(s.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels["org.opencontainers.image.title"] = s.Name
	labels["org.opencontainers.image.version"] = opts.Version
	if s.BuildFacts {
		labels["org.opencontainers.image.created"] = opts.Created.Format(time.RFC3339)
		if opts.Revision != "" {
			labels["org.opencontainers.image.revision"] = opts.Revision
		}
	}
	created := opts.Created
	return ocispecs.Image{
		Created:  &created,
		Platform: ocispecs.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant},
		Config: ocispecs.ImageConfig{
			User:       s.User,
			Entrypoint: []string{s.binaryPath()},
			Cmd:        s.Cmd,
			Env:        s.Env,
			WorkingDir: s.WorkingDir,
			Labels:     labels,
		},
		RootFS: ocispecs.RootFS{Type: "layers"},
		History: []ocispecs.History{{
			Created:   &created,
			CreatedBy: s.createdBy(opts.Version),
		}},
	}
}

// createdBy is the layer's history line: the spec, the version and the
// regular files the layer holds.
func (s Spec) createdBy(version string) string {
	var files []string
	for _, f := range s.Files {
		if !f.Dir {
			files = append(files, f.Path)
		}
	}
	return "jbuild goimage " + s.Name + " " + version + ": " + strings.Join(files, ", ")
}
