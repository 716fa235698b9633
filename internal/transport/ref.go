package transport

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Kind says which store a reference lives in.
type Kind string

const (
	KindRegistry   Kind = "registry"
	KindOCILayout  Kind = "oci"
	KindOCIArchive Kind = "oci-archive"
	// KindDockerDaemon is an image in a Docker daemon (docker-daemon:NAME[:TAG]).
	KindDockerDaemon Kind = "docker-daemon"
	// KindContainerd is an image in containerd (containerd:NAME[:TAG]); the
	// namespace and socket come from Options.Containerd.
	KindContainerd Kind = "containerd"
	// KindDockerArchive is a `docker save` archive (docker-archive:FILE[:NAME[:TAG]]).
	KindDockerArchive Kind = "docker-archive"
)

// Ref is a parsed image reference.
type Ref struct {
	Kind Kind
	// Registry is set for KindRegistry.
	Registry name.Reference
	// Image is the image name for KindDockerDaemon and KindContainerd, and
	// the optional NAME:TAG of a KindDockerArchive.
	Image name.Reference
	// Path and Tag are set for the file-based kinds; Tag may be empty, which
	// means "the only image in the layout" on read and "untagged" is refused
	// on write.
	Path string
	Tag  string
}

// Parse reads a reference as the user wrote it.
func Parse(s string) (Ref, error) {
	if s == "" {
		return Ref{}, fmt.Errorf("empty image reference: name an image such as registry.example.com/app:1.0 or oci:DIR:TAG")
	}
	for _, k := range []Kind{KindOCIArchive, KindOCILayout} {
		if rest, ok := strings.CutPrefix(s, string(k)+":"); ok {
			return parseFileRef(k, rest, s)
		}
	}
	for _, k := range []Kind{KindDockerDaemon, KindContainerd} {
		if rest, ok := strings.CutPrefix(s, string(k)+":"); ok {
			return parseDaemonRef(k, rest, s)
		}
	}
	if rest, ok := strings.CutPrefix(s, string(KindDockerArchive)+":"); ok {
		return parseDockerArchiveRef(rest, s)
	}
	if i := strings.Index(s, ":"); i > 0 && knownButUnsupported(s[:i], s[i+1:]) {
		return Ref{}, fmt.Errorf("image reference %q: the %s: transport is not supported yet; use a registry reference, oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-daemon:NAME[:TAG], containerd:NAME[:TAG] or docker-archive:FILE[:NAME:TAG]", s, s[:i])
	}
	r, err := name.ParseReference(s, name.WeakValidation)
	if err != nil {
		return Ref{}, fmt.Errorf("image reference %q: %w (write it as REGISTRY/REPOSITORY[:TAG|@DIGEST], oci:DIR[:TAG] or oci-archive:FILE[:TAG])", s, err)
	}
	return Ref{Kind: KindRegistry, Registry: r}, nil
}

// knownButUnsupported lists skopeo-style transports jbuild recognises but
// has no store for in this build, so they fail with a clear message instead
// of being parsed as a registry host called "docker-daemon". skopeo's
// registry transport is written docker://NAME; plain docker:TAG is the
// official docker image on Docker Hub, a registry reference.
func knownButUnsupported(prefix, rest string) bool {
	switch prefix {
	case "dir":
		return true
	case "docker":
		return strings.HasPrefix(rest, "//")
	}
	return false
}

func parseFileRef(k Kind, rest, orig string) (Ref, error) {
	path, tag := rest, ""
	// The tag follows the last colon unless that colon belongs to the path
	// (a Windows drive or a path with colons is not supported: keep it simple
	// and predictable, as skopeo does).
	if i := strings.LastIndex(rest, ":"); i >= 0 {
		path, tag = rest[:i], rest[i+1:]
		if strings.Contains(tag, "/") {
			return Ref{}, fmt.Errorf("image reference %q: tag %q contains '/'; write %s:PATH:TAG", orig, tag, k)
		}
	}
	if path == "" {
		return Ref{}, fmt.Errorf("image reference %q: missing path; write %s:PATH[:TAG]", orig, k)
	}
	if tag != "" {
		if _, err := name.NewTag("x:"+tag, name.WeakValidation); err != nil {
			return Ref{}, fmt.Errorf("image reference %q: invalid tag %q: %w", orig, tag, err)
		}
	}
	return Ref{Kind: k, Path: path, Tag: tag}, nil
}

// String gives the reference back in the form Parse reads.
func (r Ref) String() string {
	switch r.Kind {
	case KindRegistry:
		return r.Registry.String()
	case KindDockerDaemon, KindContainerd:
		return string(r.Kind) + ":" + r.Image.String()
	case KindDockerArchive:
		if r.Image == nil {
			return string(r.Kind) + ":" + r.Path
		}
		return string(r.Kind) + ":" + r.Path + ":" + r.Image.String()
	default:
		if r.Tag == "" {
			return string(r.Kind) + ":" + r.Path
		}
		return string(r.Kind) + ":" + r.Path + ":" + r.Tag
	}
}

// Name is the reference in the form recorded as
// org.opencontainers.image.base.name: the registry reference as written, or
// the transport form for local stores.
func (r Ref) Name() string { return r.String() }

// TagName returns the tag, or "" for digest references and untagged refs.
func (r Ref) TagName() string {
	switch r.Kind {
	case KindRegistry:
		if t, ok := r.Registry.(name.Tag); ok {
			return t.TagStr()
		}
		return ""
	case KindDockerDaemon, KindContainerd, KindDockerArchive:
		if t, ok := r.Image.(name.Tag); ok {
			return t.TagStr()
		}
		return ""
	default:
		return r.Tag
	}
}

// WithTag returns the same repository or layout with another tag.
func (r Ref) WithTag(tag string) (Ref, error) {
	switch r.Kind {
	case KindRegistry:
		t, err := name.NewTag(r.Registry.Context().String()+":"+tag, name.WeakValidation)
		if err != nil {
			return Ref{}, fmt.Errorf("tag %q for %s: %w", tag, r.Registry.Context(), err)
		}
		return Ref{Kind: KindRegistry, Registry: t}, nil
	case KindDockerDaemon, KindContainerd, KindDockerArchive:
		return r.withImageTag(tag)
	default:
		out := r
		out.Tag = tag
		return out, nil
	}
}

// SameLocation reports whether two references name the same tag in the same
// store, the case jbuild refuses so a source is never overwritten.
func SameLocation(a, b Ref) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case KindRegistry:
		return a.Registry.Name() == b.Registry.Name()
	case KindDockerDaemon, KindContainerd:
		return daemonName(a.Image) == daemonName(b.Image)
	case KindDockerArchive:
		return cleanPath(a.Path) == cleanPath(b.Path) && daemonName(a.Image) == daemonName(b.Image)
	}
	return cleanPath(a.Path) == cleanPath(b.Path) && a.Tag == b.Tag
}

// SameStore reports whether two references live in the same repository or
// layout, where blobs are shared and a digest is addressable from both.
func SameStore(a, b Ref) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case KindRegistry:
		return a.Registry.Context().Name() == b.Registry.Context().Name()
	case KindDockerDaemon, KindContainerd:
		// One daemon (or one containerd namespace: a command opens every
		// store with the same Options) holds every name.
		return true
	}
	return cleanPath(a.Path) == cleanPath(b.Path)
}
