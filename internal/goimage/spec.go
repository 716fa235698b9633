package goimage

// A Spec is one image: its main package, the files of its single layer
// and its run-time config. Frontend and Self are this repository's two.
type Spec struct {
	// Name is the org.opencontainers.image.title label; it also names the
	// image in log lines and errors.
	Name string
	// Package is the main package compiled when Options.Package is "".
	Package string
	// Files are the layer's entries, parents before children. Exactly one
	// holds the Binary; its path is the entrypoint.
	Files []File
	// User, Cmd, Env and WorkingDir go into the image config as they are.
	User       string
	Cmd        []string
	Env        []string
	WorkingDir string
	// Labels are added to the title and version labels.
	Labels map[string]string
	// BuildFacts adds the org.opencontainers.image.created label and, when
	// Options.Revision is set, .revision.
	BuildFacts bool
}

// A File is one entry of the layer.
type File struct {
	// Path is absolute.
	Path string
	// Dir makes the entry a directory.
	Dir bool
	// Mode holds the Unix permission bits, 0o1777 for a sticky directory.
	Mode uint32
	// UID owns the entry, with the same GID; 0 is root.
	UID int
	// Content of a regular file.
	Content Content
	// Data is the file's bytes when Content is Data.
	Data string
}

// Content says where a regular File's bytes come from.
type Content int

const (
	// Data is File.Data.
	Data Content = iota
	// Binary is the compiled main package for the image's platform.
	Binary
	// HostCACerts is the build host's CA bundle, Options.HostCACerts.
	HostCACerts
)

// Labels and values BuildKit reads from a frontend image, as on BuildKit's
// own docker/dockerfile images: the frontend runs without network, and it
// may use frontend inputs, subrequests and named contexts.
const (
	LabelNetworkNone = "moby.buildkit.frontend.network.none"
	LabelCaps        = "moby.buildkit.frontend.caps"
	Caps             = "moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts"
)

// FrontendBinary is where the frontend binary lives in the Frontend image.
const FrontendBinary = "/bin/jbuild-frontend"

// Frontend is the image of the jbuild BuildKit frontend, the `# syntax=`
// image: /bin/jbuild-frontend alone, root, with the labels BuildKit reads
// from frontend images.
var Frontend = Spec{
	Name:    "jbuild-frontend",
	Package: "./cmd/jbuild-frontend",
	Files: []File{
		{Path: "/bin", Dir: true, Mode: 0o755},
		{Path: FrontendBinary, Mode: 0o755, Content: Binary},
	},
	Labels: map[string]string{
		LabelNetworkNone: "true",
		LabelCaps:        Caps,
	},
}

// Facts of the Self image.
const (
	SelfBinary  = "/usr/local/bin/jbuild"
	SelfUID     = 65532
	SelfHome    = "/home/jbuild"
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
)

// Self is the image of jbuild itself, the step image of the CI templates:
// a static jbuild on an empty root (no shell, no package manager), run as
// the jbuild user (65532) with a home for the Docker config and caches,
// the build host's CA bundle for registry TLS, and /tmp.
var Self = Spec{
	Name:    "jbuild",
	Package: "./cmd/jbuild",
	Files: []File{
		{Path: "/etc", Dir: true, Mode: 0o755},
		{Path: "/etc/ssl", Dir: true, Mode: 0o755},
		{Path: "/etc/ssl/certs", Dir: true, Mode: 0o755},
		{Path: "/etc/passwd", Mode: 0o644, Data: "root:x:0:0:root:/root:/sbin/nologin\njbuild:x:65532:65532:jbuild:/home/jbuild:/sbin/nologin\n"},
		{Path: "/etc/group", Mode: 0o644, Data: "root:x:0:\njbuild:x:65532:\n"},
		{Path: CACertsPath, Mode: 0o644, Content: HostCACerts},
		{Path: "/usr", Dir: true, Mode: 0o755},
		{Path: "/usr/local", Dir: true, Mode: 0o755},
		{Path: "/usr/local/bin", Dir: true, Mode: 0o755},
		{Path: SelfBinary, Mode: 0o755, Content: Binary},
		{Path: "/home", Dir: true, Mode: 0o755},
		{Path: SelfHome, Dir: true, Mode: 0o755, UID: SelfUID},
		{Path: "/tmp", Dir: true, Mode: 0o1777},
	},
	User:       "65532:65532",
	Cmd:        []string{"--help"},
	Env:        []string{"PATH=/usr/local/bin", "HOME=" + SelfHome, "SSL_CERT_FILE=" + CACertsPath},
	WorkingDir: SelfHome,
	Labels: map[string]string{
		"org.opencontainers.image.description": "jbuild: the monitored variant of container images (JENNIFER APM agent built in)",
		"org.opencontainers.image.source":      "https://github.com/jbuild-dev/jbuild",
		"org.opencontainers.image.url":         "https://github.com/jbuild-dev/jbuild",
	},
	BuildFacts: true,
}

// binaryPath is the path of the spec's Binary file ("" if none).
func (s Spec) binaryPath() string {
	for _, f := range s.Files {
		if !f.Dir && f.Content == Binary {
			return f.Path
		}
	}
	return ""
}
