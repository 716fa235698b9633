package k8s

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/imagefs"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/jbuild-dev/jbuild/templates"
)

// Inspect reads what rendering and linting need from the image st names:
// the config of one platform (linux/amd64 when an index has it, else this
// machine's architecture, else the first), the architectures of all, and
// the manifest digest. Layers are read only to resolve a named USER, and
// later when lint asks Files about the agent folder.
func Inspect(ctx context.Context, st transport.Store) (*Image, error) {
	ref := st.Ref().String()
	a, err := st.Get(ctx)
	if err != nil {
		return nil, err
	}
	d, err := a.Digest()
	if err != nil {
		return nil, fmt.Errorf("digest of %s: %w", ref, err)
	}
	img, archs := a.Image, []string(nil)
	if img == nil {
		if img, archs, err = pickPlatform(a.Index); err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the config of %s: %w", ref, err)
	}
	if archs == nil && cf.Architecture != "" {
		archs = []string{cf.Architecture}
	}
	out := &Image{
		Ref:        ref,
		Digest:     d.String(),
		Reachable:  true,
		Labels:     cf.Config.Labels,
		User:       cf.Config.User,
		Ports:      exposedPorts(cf.Config.ExposedPorts),
		Env:        envMap(cf.Config.Env),
		Entrypoint: cf.Config.Entrypoint,
		Cmd:        cf.Config.Cmd,
		Archs:      archs,
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if name := out.ProfileName(); name != "" {
		// The image's own profile, else the built-in one it names (an
		// image made before io.jbuild.profile-doc by a user profile is
		// not known here: its labels still give the volumes).
		out.Profile, _ = templates.ForImage(out.Labels)
	}
	fsys := imagefs.New(img, ref, buildplan.ContentPaths())
	out.Files = fsys
	u, err := buildplan.ResolveUser(buildplan.Image{Reference: ref, Config: wrap.OCIConfig(cf.Config), FS: fsys})
	if err != nil {
		return nil, fmt.Errorf("the image's user: %w", err)
	}
	uid, gid := int64(u.UID), int64(u.GID)
	out.UID, out.GID = &uid, &gid
	return out, nil
}

// pickPlatform chooses the image whose config stands for the index: the
// platforms of one jbuild output share labels, user and ports.
func pickPlatform(idx v1.ImageIndex) (v1.Image, []string, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, nil, err
	}
	var archs []string
	var pick *v1.Descriptor
	score := func(p *v1.Platform) int {
		switch {
		case p.Architecture == "amd64":
			return 2
		case p.Architecture == runtime.GOARCH:
			return 1
		}
		return 0
	}
	for i, d := range im.Manifests {
		if !transport.IsPlatformImage(d) {
			continue // attestation manifests
		}
		archs = append(archs, d.Platform.Architecture)
		if pick == nil || score(d.Platform) > score(pick.Platform) {
			pick = &im.Manifests[i]
		}
	}
	if pick == nil {
		return nil, nil, fmt.Errorf("the index has no platform image")
	}
	img, err := idx.Image(pick.Digest)
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(archs)
	return img, archs, nil
}

// exposedPorts turns "8080/tcp" keys into ports, lowest first, TCP first.
func exposedPorts(m map[string]struct{}) []Port {
	var out []Port
	for k := range m {
		num, proto, _ := strings.Cut(k, "/")
		n, err := strconv.ParseUint(num, 10, 16)
		if err != nil || n == 0 {
			continue
		}
		switch proto = strings.ToUpper(proto); proto {
		case "":
			proto = "TCP"
		case "TCP", "UDP", "SCTP":
		default:
			continue
		}
		out = append(out, Port{Number: int32(n), Protocol: proto})
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Protocol == "TCP") != (out[j].Protocol == "TCP") {
			return out[i].Protocol == "TCP"
		}
		return out[i].Number < out[j].Number
	})
	return out
}
