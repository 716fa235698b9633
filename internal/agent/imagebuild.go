package agent

import (
	"fmt"
	"maps"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
)

// ImageFromLayer makes an agent image for one platform: layer (built with
// agentlayer.Build from EntriesForImage) and a config carrying labels,
// which must include LabelRoot. Manifest and config use OCI media types;
// the config's created time and its one history entry use the fixed epoch
// (SOURCE_DATE_EPOCH, else 1970), so the same agent gives the same image
// digest on every run. For a multi-platform agent, put the images into an
// index with mutate.AppendManifests (each with its platform in the
// descriptor).
func ImageFromLayer(layer v1.Layer, platform v1.Platform, labels map[string]string) (v1.Image, error) {
	root := labels[LabelRoot]
	if !path.IsAbs(root) || path.Clean(root) != root || root == "/" {
		return nil, fmt.Errorf("agent image: label %s=%q must be the absolute, clean install folder of the agent files", LabelRoot, root)
	}
	if platform.OS == "" || platform.Architecture == "" {
		return nil, fmt.Errorf("agent image: platform %q lacks an OS or architecture", platform.String())
	}
	epoch, err := agentlayer.EpochFromEnv()
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: epoch}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   created,
			CreatedBy: "jbuild agent push",
			Comment:   "agent files in " + root,
		},
		MediaType: types.OCILayer,
	})
	if err != nil {
		return nil, fmt.Errorf("agent image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("agent image: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Created = created
	cf.OS = platform.OS
	cf.Architecture = platform.Architecture
	cf.Variant = platform.Variant
	cf.OSVersion = platform.OSVersion
	cf.OSFeatures = platform.OSFeatures
	cf.Config.Labels = maps.Clone(labels)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("agent image: %w", err)
	}
	return img, nil
}

// EntriesForImage lists the layer entries of an agent image for bundle b
// installed at root: the root folder and every bundle file below it, owned
// by root, with the bundle's own permission bits. An agent image is a
// transport format: ownership and modes for the running application are the
// plan's business when the agent is installed into an application image.
func EntriesForImage(b *Bundle, root string) ([]buildplan.LayerEntry, error) {
	if !path.IsAbs(root) || path.Clean(root) != root || root == "/" {
		return nil, fmt.Errorf("agent image: install folder %q must be absolute and clean", root)
	}
	out := []buildplan.LayerEntry{{Path: root, Type: buildplan.TypeDir, Mode: 0o755}}
	for _, f := range b.Files {
		rel := strings.TrimSuffix(f.Path, "/")
		e := buildplan.LayerEntry{Path: root + "/" + rel, Mode: f.Mode.Perm()}
		switch {
		case f.Mode.IsDir():
			e.Type = buildplan.TypeDir
		case f.Mode.IsRegular():
			e.Type, e.From, e.Size = buildplan.TypeFile, rel, f.Size
		default:
			e.Type, e.Link = buildplan.TypeSymlink, f.Link
		}
		out = append(out, e)
	}
	return out, nil
}
