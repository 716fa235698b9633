package wrap

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// OCIConfig converts ggcr's config to the OCI type buildplan works on. Only
// the fields detection reads are carried; applyToConfig copies back only env
// and labels, so Docker-only fields (Healthcheck, Shell, OnBuild) survive
// untouched.
func OCIConfig(c v1.Config) ocispec.ImageConfig {
	out := ocispec.ImageConfig{
		User:       c.User,
		Env:        append([]string(nil), c.Env...),
		Entrypoint: append([]string(nil), c.Entrypoint...),
		Cmd:        append([]string(nil), c.Cmd...),
		WorkingDir: c.WorkingDir,
		StopSignal: c.StopSignal,
	}
	if len(c.Labels) > 0 {
		out.Labels = make(map[string]string, len(c.Labels))
		for k, v := range c.Labels {
			out.Labels[k] = v
		}
	}
	if len(c.ExposedPorts) > 0 {
		out.ExposedPorts = map[string]struct{}{}
		for k := range c.ExposedPorts {
			out.ExposedPorts[k] = struct{}{}
		}
	}
	if len(c.Volumes) > 0 {
		out.Volumes = map[string]struct{}{}
		for k := range c.Volumes {
			out.Volumes[k] = struct{}{}
		}
	}
	return out
}

func ociPlatform(p v1.Platform) ocispec.Platform {
	return ocispec.Platform{
		OS:           p.OS,
		Architecture: p.Architecture,
		Variant:      p.Variant,
		OSVersion:    p.OSVersion,
		OSFeatures:   p.OSFeatures,
	}
}

// platformOf reads the platform from an image's config file, for single
// images that are not in an index.
func platformOf(cf *v1.ConfigFile) v1.Platform {
	return v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant, OSVersion: cf.OSVersion}
}
