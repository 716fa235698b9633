package transport

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Kind says which store a reference lives in. Each store's file declares
// its Kind constant next to the storeKind that registers it.
type Kind string

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

// KindInfo describes one kind of store for help texts and listings.
type KindInfo struct {
	Kind Kind
	// Form is how a reference is written ("oci:DIR[:TAG]"); Help says what
	// it names ("an OCI image layout").
	Form, Help string
	// Examples are references of this kind: each parses to it and prints
	// back (String) unchanged.
	Examples []string
}

// storeKind is everything jbuild knows of one kind of store: its
// description, how its references read, print and compare (refs), and how
// it opens. Each store's file declares one; storeKinds lists them.
type storeKind struct {
	KindInfo
	// bare: references are written without a "KIND:" prefix, so this kind
	// parses whatever no other kind claims (the registry). Exactly one kind
	// is bare.
	bare bool
	refs refSyntax
	open func(Ref, Options) (Store, error)
}

// storeKinds are the stores of this build, in the order help texts list
// them. A new store is a file declaring its storeKind, plus a line here.
// The list is filled by init, not by an initializer, so a store's open and
// refs may use Parse and Ref's methods without making an initialization
// cycle (storeKinds would refer to itself through them).
var storeKinds []*storeKind

func init() {
	storeKinds = []*storeKind{
		&registryKind,
		&layoutKind,
		&archiveKind,
		&dockerKind,
		&containerdKind,
		&dockerArchiveKind,
	}
}

// refSyntax is how the references of one kind are read, printed, tagged
// and compared. A store reuses one of the syntaxes below (registryRefs,
// pathRefs, daemonRefs, dockerArchiveRefs) unless its references need
// their own.
type refSyntax interface {
	// parse reads rest, what follows "KIND:" (all of orig for the bare
	// kind); orig is the reference as written, for messages.
	parse(k Kind, rest, orig string) (Ref, error)
	// format is the reference as parse reads it, without "KIND:".
	format(r Ref) string
	tagName(r Ref) string
	withTag(r Ref, tag string) (Ref, error)
	sameLocation(a, b Ref) bool
	sameStore(a, b Ref) bool
}

// Kinds lists every store of this build, in the order help texts show them.
func Kinds() []KindInfo {
	out := make([]KindInfo, len(storeKinds))
	for i, k := range storeKinds {
		out[i] = k.KindInfo
		out[i].Examples = append([]string(nil), k.Examples...)
	}
	return out
}

// KindsHelp is Kinds for a command's help: one store a line, its form and
// what it names, the descriptions aligned and wrapped to 80 columns.
func KindsHelp() string {
	const indent, gap, width = "  ", "  ", 80
	col := 0
	for _, k := range storeKinds {
		col = max(col, len(k.Form))
	}
	col += len(indent) + len(gap)
	var b strings.Builder
	for _, k := range storeKinds {
		b.WriteString(indent + k.Form + strings.Repeat(" ", col-len(indent)-len(k.Form)))
		n := col
		for i, w := range strings.Fields(k.Help) {
			switch {
			case i == 0:
			case n+1+len(w) > width:
				b.WriteString("\n" + strings.Repeat(" ", col))
				n = col
			default:
				b.WriteString(" ")
				n++
			}
			b.WriteString(w)
			n += len(w)
		}
		b.WriteString("\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// forms lists how every kind is written, for messages: "A, B or C".
func forms() string {
	fs := make([]string, len(storeKinds))
	for i, k := range storeKinds {
		fs[i] = k.Form
	}
	return strings.Join(fs[:len(fs)-1], ", ") + " or " + fs[len(fs)-1]
}

// kindOf is the registered kind k, or nil.
func kindOf(k Kind) *storeKind {
	for _, sk := range storeKinds {
		if sk.Kind == k {
			return sk
		}
	}
	return nil
}

// syntax is how r is read and printed; a kind of no store of this build
// (a Ref built by hand) is treated as a path reference, KIND:PATH[:TAG].
func (r Ref) syntax() refSyntax {
	if k := kindOf(r.Kind); k != nil {
		return k.refs
	}
	return pathRefs{}
}

// Parse reads a reference as the user wrote it.
func Parse(s string) (Ref, error) {
	if s == "" {
		return Ref{}, fmt.Errorf("empty image reference: name an image such as registry.example.com/app:1.0 or oci:DIR:TAG")
	}
	var bare *storeKind
	for _, k := range storeKinds {
		if k.bare {
			bare = k
		} else if rest, ok := strings.CutPrefix(s, string(k.Kind)+":"); ok {
			return k.refs.parse(k.Kind, rest, s)
		}
	}
	if i := strings.Index(s, ":"); i > 0 && knownButUnsupported(s[:i], s[i+1:]) {
		return Ref{}, fmt.Errorf("image reference %q: the %s: transport is not supported yet; use %s", s, s[:i], forms())
	}
	return bare.refs.parse(bare.Kind, s, s)
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

// String gives the reference back in the form Parse reads.
func (r Ref) String() string {
	if k := kindOf(r.Kind); k != nil && k.bare {
		return k.refs.format(r)
	}
	return string(r.Kind) + ":" + r.syntax().format(r)
}

// Name is the reference in the form recorded as
// org.opencontainers.image.base.name: the registry reference as written, or
// the transport form for local stores.
func (r Ref) Name() string { return r.String() }

// TagName returns the tag, or "" for digest references and untagged refs.
func (r Ref) TagName() string { return r.syntax().tagName(r) }

// WithTag returns the same repository or layout with another tag.
func (r Ref) WithTag(tag string) (Ref, error) { return r.syntax().withTag(r, tag) }

// SameLocation reports whether two references name the same tag in the same
// store, the case jbuild refuses so a source is never overwritten.
func SameLocation(a, b Ref) bool {
	return a.Kind == b.Kind && a.syntax().sameLocation(a, b)
}

// SameStore reports whether two references live in the same repository or
// layout, where blobs are shared and a digest is addressable from both.
func SameStore(a, b Ref) bool {
	return a.Kind == b.Kind && a.syntax().sameStore(a, b)
}

// registryRefs are registry references as Docker writes them.
type registryRefs struct{}

func (registryRefs) parse(k Kind, s, _ string) (Ref, error) {
	r, err := name.ParseReference(s, name.WeakValidation)
	if err != nil {
		return Ref{}, fmt.Errorf("image reference %q: %w (write it as REGISTRY/REPOSITORY[:TAG|@DIGEST], oci:DIR[:TAG] or oci-archive:FILE[:TAG])", s, err)
	}
	return Ref{Kind: k, Registry: r}, nil
}

func (registryRefs) format(r Ref) string { return r.Registry.String() }

func (registryRefs) tagName(r Ref) string {
	if t, ok := r.Registry.(name.Tag); ok {
		return t.TagStr()
	}
	return ""
}

func (registryRefs) withTag(r Ref, tag string) (Ref, error) {
	t, err := name.NewTag(r.Registry.Context().String()+":"+tag, name.WeakValidation)
	if err != nil {
		return Ref{}, fmt.Errorf("tag %q for %s: %w", tag, r.Registry.Context(), err)
	}
	return Ref{Kind: r.Kind, Registry: t}, nil
}

func (registryRefs) sameLocation(a, b Ref) bool { return a.Registry.Name() == b.Registry.Name() }

func (registryRefs) sameStore(a, b Ref) bool {
	return a.Registry.Context().Name() == b.Registry.Context().Name()
}

// pathRefs are KIND:PATH[:TAG] references to a file or folder that holds
// images by tag (oci:, oci-archive:).
type pathRefs struct{}

func (pathRefs) parse(k Kind, rest, orig string) (Ref, error) { return parseFileRef(k, rest, orig) }

func (pathRefs) format(r Ref) string {
	if r.Tag == "" {
		return r.Path
	}
	return r.Path + ":" + r.Tag
}

func (pathRefs) tagName(r Ref) string { return r.Tag }

func (pathRefs) withTag(r Ref, tag string) (Ref, error) {
	r.Tag = tag
	return r, nil
}

func (pathRefs) sameLocation(a, b Ref) bool {
	return cleanPath(a.Path) == cleanPath(b.Path) && a.Tag == b.Tag
}

func (pathRefs) sameStore(a, b Ref) bool { return cleanPath(a.Path) == cleanPath(b.Path) }

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

// daemonRefs are KIND:NAME[:TAG|@DIGEST] references to an image store that
// names images as Docker does (docker-daemon:, containerd:). One daemon
// holds every name.
type daemonRefs struct{}

func (daemonRefs) parse(k Kind, rest, orig string) (Ref, error) { return parseDaemonRef(k, rest, orig) }
func (daemonRefs) format(r Ref) string                          { return r.Image.String() }
func (daemonRefs) tagName(r Ref) string                         { return imageTag(r) }
func (daemonRefs) withTag(r Ref, tag string) (Ref, error)       { return r.withImageTag(tag) }
func (daemonRefs) sameLocation(a, b Ref) bool                   { return daemonName(a.Image) == daemonName(b.Image) }

// sameStore: one daemon (or one containerd namespace: a command opens
// every store with the same Options) holds every name.
func (daemonRefs) sameStore(a, b Ref) bool { return true }

// dockerArchiveRefs are docker-archive:FILE[:NAME[:TAG]] references.
type dockerArchiveRefs struct{}

func (dockerArchiveRefs) parse(_ Kind, rest, orig string) (Ref, error) {
	return parseDockerArchiveRef(rest, orig)
}

func (dockerArchiveRefs) format(r Ref) string {
	if r.Image == nil {
		return r.Path
	}
	return r.Path + ":" + r.Image.String()
}

func (dockerArchiveRefs) tagName(r Ref) string                   { return imageTag(r) }
func (dockerArchiveRefs) withTag(r Ref, tag string) (Ref, error) { return r.withImageTag(tag) }

func (dockerArchiveRefs) sameLocation(a, b Ref) bool {
	return cleanPath(a.Path) == cleanPath(b.Path) && daemonName(a.Image) == daemonName(b.Image)
}

func (dockerArchiveRefs) sameStore(a, b Ref) bool { return cleanPath(a.Path) == cleanPath(b.Path) }

// imageTag is the tag of r.Image, or "" for a digest or no image.
func imageTag(r Ref) string {
	if t, ok := r.Image.(name.Tag); ok {
		return t.TagStr()
	}
	return ""
}
