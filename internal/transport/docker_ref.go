package transport

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// parseDaemonRef reads the NAME[:TAG|@DIGEST] of docker-daemon: and
// containerd: references. Names follow Docker's rules (myapp:1.2 is
// docker.io/library/myapp:1.2), as docker and kubelet name their images.
func parseDaemonRef(k Kind, rest, orig string) (Ref, error) {
	if rest == "" {
		return Ref{}, fmt.Errorf("image reference %q: missing image name; write %s:NAME[:TAG]", orig, k)
	}
	r, err := name.ParseReference(rest, name.WeakValidation)
	if err != nil {
		return Ref{}, fmt.Errorf("image reference %q: %w (write %s:NAME[:TAG], e.g. %s:myapp:1.2)", orig, err, k, k)
	}
	return Ref{Kind: k, Image: r}, nil
}

// parseDockerArchiveRef reads docker-archive:FILE[:NAME[:TAG]], skopeo's
// form: the path ends at the first colon and the rest names one of the
// archive's RepoTags (a path with colons is not supported). Without a name
// the archive must hold exactly one image on read; a target needs one.
func parseDockerArchiveRef(rest, orig string) (Ref, error) {
	path, image, hasImage := strings.Cut(rest, ":")
	if path == "" {
		return Ref{}, fmt.Errorf("image reference %q: missing path; write docker-archive:FILE[:NAME:TAG]", orig)
	}
	ref := Ref{Kind: KindDockerArchive, Path: path}
	if !hasImage {
		return ref, nil
	}
	t, err := name.NewTag(image, name.WeakValidation)
	if err != nil {
		return Ref{}, fmt.Errorf("image reference %q: %q is not a NAME[:TAG] for the archive: %w (write docker-archive:FILE[:NAME:TAG], e.g. docker-archive:app.tar:myapp:1.2)", orig, image, err)
	}
	ref.Image = t
	return ref, nil
}

// withImageTag is WithTag for references with an image name: the name as
// the user wrote it (myapp stays myapp, not index.docker.io/library/myapp)
// with another tag.
func (r Ref) withImageTag(tag string) (Ref, error) {
	if r.Image == nil {
		return Ref{}, fmt.Errorf("%s names no image to tag: write %s:%s:NAME:%s", r, r.Kind, r.Path, tag)
	}
	t, err := name.NewTag(repoAsWritten(r.Image.String())+":"+tag, name.WeakValidation)
	if err != nil {
		return Ref{}, fmt.Errorf("tag %q for %s: %w", tag, r.Image.Context(), err)
	}
	out := r
	out.Image = t
	return out, nil
}

// repoAsWritten strips the tag or digest from a reference string.
func repoAsWritten(s string) string {
	s, _, _ = strings.Cut(s, "@")
	if i := strings.LastIndex(s, ":"); i > strings.LastIndex(s, "/") {
		s = s[:i]
	}
	return s
}

// daemonName is the fully qualified name Docker and containerd use for an
// image: docker.io/library/myapp:1.2 for myapp:1.2 (ggcr spells Docker
// Hub index.docker.io, which containerd would treat as another registry).
// It is "" for nil.
func daemonName(r name.Reference) string {
	if r == nil {
		return ""
	}
	repo := r.Context().RegistryStr()
	if repo == name.DefaultRegistry {
		repo = "docker.io"
	}
	repo += "/" + r.Context().RepositoryStr()
	if d, ok := r.(name.Digest); ok {
		return repo + "@" + d.DigestStr()
	}
	return repo + ":" + r.Identifier()
}

// Printed is a written reference as its store's own tools take it: NAME:TAG
// for the Docker daemon (`docker run app:1-jennifer`; the daemon names an
// image by its ID, which jbuild reports as the digest), REF@DIGEST for
// every other store, so scripts can pin it.
func Printed(target, digest string) string {
	if r, err := Parse(target); err == nil && r.Kind == KindDockerDaemon && r.Image != nil {
		return r.Image.String() // as written: docker takes both spellings
	}
	return target + "@" + digest
}
