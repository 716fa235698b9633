package sampleimage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// RefNameAnnotation tags a manifest in an OCI layout's index.json; it is
// what `oci:DIR:TAG` references resolve.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// Platform is the sample image's platform.
var Platform = v1.Platform{OS: "linux", Architecture: "amd64"}

// JavaConfig returns the config of the sample image, as a Java Dockerfile
// on a Debian JDK base would leave it.
func JavaConfig() *v1.ConfigFile {
	return &v1.ConfigFile{
		Architecture: Platform.Architecture,
		OS:           Platform.OS,
		Created:      v1.Time{Time: Created},
		Config: v1.Config{
			Env: []string{
				"PATH=" + JavaHome + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"JAVA_HOME=" + JavaHome,
				"JAVA_TOOL_OPTIONS=-Xmx256m",
			},
			Entrypoint:   []string{"java", "-jar", "/app/app.jar"},
			User:         AppUser,
			WorkingDir:   "/app",
			ExposedPorts: map[string]struct{}{"8080/tcp": {}},
			Labels: map[string]string{
				"org.opencontainers.image.title":   "sample-java-app",
				"org.opencontainers.image.version": "1.0",
			},
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
}

// JavaApp returns the sample image: one rootfs layer and JavaConfig, with
// OCI media types.
func JavaApp() (v1.Image, error) {
	layer, err := RootFS()
	if err != nil {
		return nil, fmt.Errorf("building sample rootfs: %w", err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.ConfigFile(base, JavaConfig())
	if err != nil {
		return nil, err
	}
	return mutate.Append(img, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: Created},
			CreatedBy: "jbuild sampleimage: rootfs, JDK 17 placeholder, /app/app.jar",
		},
	})
}

// Write writes the sample image into the OCI layout at layoutDir (created if
// missing, kept otherwise) under tag, replacing an image already tagged so,
// and returns the image's manifest digest.
func Write(layoutDir, tag string) (v1.Hash, error) {
	img, err := JavaApp()
	if err != nil {
		return v1.Hash{}, err
	}
	p, err := openOrCreate(layoutDir)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("opening OCI layout %s: %w", layoutDir, err)
	}
	err = p.ReplaceImage(img, match.Annotation(RefNameAnnotation, tag),
		layout.WithAnnotations(map[string]string{RefNameAnnotation: tag}),
		layout.WithPlatform(Platform))
	if err != nil {
		return v1.Hash{}, fmt.Errorf("writing sample image to %s: %w", layoutDir, err)
	}
	return img.Digest()
}

func openOrCreate(dir string) (layout.Path, error) {
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
		return layout.FromPath(dir)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	return layout.Write(dir, empty.Index)
}
