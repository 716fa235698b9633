package manifest

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Ref is an image reference split as written in a manifest:
// REPOSITORY[:TAG][@DIGEST]. The repository is kept in the user's spelling
// (no docker.io/library/ added), so rewritten manifests read the same.
type Ref struct {
	Repository, Tag, Digest string
}

// SplitRef splits an image reference. The tag is what follows the last ':'
// after the last '/' (a registry port is not a tag).
func SplitRef(s string) Ref {
	var r Ref
	if i := strings.Index(s, "@"); i >= 0 {
		s, r.Digest = s[:i], s[i+1:]
	}
	slash := strings.LastIndex(s, "/")
	if i := strings.LastIndex(s, ":"); i > slash {
		s, r.Tag = s[:i], s[i+1:]
	}
	r.Repository = s
	return r
}

// String is REPOSITORY[:TAG][@DIGEST].
func (r Ref) String() string {
	s := r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// KustomizeImage is one entry of a kustomization's images: list.
type KustomizeImage struct {
	Name    string `yaml:"name"`
	NewName string `yaml:"newName,omitempty"`
	NewTag  string `yaml:"newTag,omitempty"`
	Digest  string `yaml:"digest,omitempty"`
}

// Kustomize renders an images: patch for a kustomization.yaml. Kustomize
// matches entries by image name without tag, and with both newTag and
// digest set it writes NAME:TAG@DIGEST, the same pinned reference the file
// rewrite writes. Entries are sorted by name.
func Kustomize(images []KustomizeImage) ([]byte, error) {
	sorted := append([]KustomizeImage(nil), images...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	seen := map[string]KustomizeImage{}
	uniq := sorted[:0]
	for _, im := range sorted {
		if prev, ok := seen[im.Name]; ok {
			if prev != im {
				return nil, fmt.Errorf("image %s is written with two different tags or digests: a kustomize images: entry matches the name whatever the tag, so it cannot tell them apart; edit the files instead (drop --kustomize)", im.Name)
			}
			continue
		}
		seen[im.Name] = im
		uniq = append(uniq, im)
	}
	sorted = uniq
	var buf bytes.Buffer
	buf.WriteString("# kustomization.yaml: images written by jbuild wrap -f --kustomize\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(struct {
		Images []KustomizeImage `yaml:"images"`
	}{sorted}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
