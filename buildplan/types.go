package buildplan

// This file holds the data types that cross the package boundary: what a
// caller hands in (Input) and what it gets back (Plan). Everything here is
// plain data so a Plan serializes to JSON (`jbuild plan -o json`) and can be
// applied by either engine (the registry/OCI engine of `jbuild wrap` and the
// BuildKit frontend) without either re-deciding anything.

import (
	"io/fs"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// SchemaVersion is bumped whenever the JSON form of Plan changes incompatibly.
const SchemaVersion = 1

// Runtime names the language runtime an agent attaches to.
type Runtime string

const (
	RuntimeUnknown Runtime = ""
	RuntimeJava    Runtime = "java"
	RuntimeDotnet  Runtime = "dotnet"
	RuntimeNodejs  Runtime = "nodejs"
	RuntimePython  Runtime = "python"
	RuntimePHP     Runtime = "php"
	// RuntimeNative marks a Go or other statically linked binary: nothing to
	// inject into, detected so it can be refused with a reason.
	RuntimeNative Runtime = "native"
)

// Libc names the C library the image's dynamic loader belongs to.
type Libc string

const (
	LibcUnknown Libc = ""
	LibcGlibc   Libc = "glibc"
	LibcMusl    Libc = "musl"
	// LibcNone: no dynamic loader at all (scratch, distroless/static).
	LibcNone Libc = "none"
)

// ImageFS is the read-only view of an image's merged root filesystem that
// detection needs. Paths are absolute, slash-separated ("/etc/passwd").
// Implementations do the I/O (layer scanning for registry images, gateway
// ReadFile/ReadDir/StatFile in the frontend); buildplan only calls it, and
// only for the facts the chosen profile actually needs, so a wrap whose answer
// is already in the image config reads no layer at all.
//
// Stat and ReadDir follow the image's own symlinks inside the image root.
// A missing path returns an error satisfying errors.Is(err, fs.ErrNotExist).
type ImageFS interface {
	Stat(path string) (fs.FileInfo, error)
	ReadDir(path string) ([]fs.DirEntry, error)
	// ReadFile returns at most limit bytes of the file.
	ReadFile(path string, limit int64) ([]byte, error)
	// Lookup describes path without following a symlink at its end. The
	// caller walks one component at a time, so path's parents are never
	// symlinks.
	Lookup(path string) (FileStat, error)
}

// Image is what buildplan knows about the image being wrapped.
type Image struct {
	// Reference is the source as the user named it (for labels and messages).
	Reference string `json:"reference"`
	// Digest of the source manifest ("sha256:..."), empty when not known yet.
	Digest   string              `json:"digest,omitempty"`
	Platform ocispec.Platform    `json:"platform"`
	Config   ocispec.ImageConfig `json:"config"`
	// FS may be nil: then only config evidence is used.
	FS ImageFS `json:"-"`
}

// AgentFile is one entry of an agent bundle, relative to the agent folder
// root ("jennifer.jar", "conf/jennifer.conf", "bin/").
type AgentFile struct {
	Path string      `json:"path"`
	Mode fs.FileMode `json:"mode"` // type bits + permission bits as found
	Size int64       `json:"size,omitempty"`
	// Link is the target of a symlink, relative and inside the bundle.
	Link string `json:"link,omitempty"`
}

// Agent describes the agent bundle to install, as read by internal/agent.
type Agent struct {
	// Name and Version as found in the bundle (version may be empty).
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	// Source says where it came from (path, URL, image ref) for labels.
	Source string `json:"source,omitempty"`
	// Digest identifies the bundle content ("sha256:..." of the canonical
	// file list and contents), independent of how it was packaged.
	Digest string      `json:"digest,omitempty"`
	Files  []AgentFile `json:"files"`
	// ReadFile reads a bundle file (relative path); used for the profile's
	// config file so existing keys are kept.
	ReadFile func(rel string) ([]byte, error) `json:"-"`
}

// Options are the user's choices (CLI flags, frontend build args).
type Options struct {
	// Runtime overrides detection when set.
	Runtime       Runtime `json:"runtime,omitempty"`
	ServerAddress string  `json:"serverAddress,omitempty"`
	ServerPort    int     `json:"serverPort,omitempty"`
	DomainID      int     `json:"domainId,omitempty"`
	// JbuildVersion is written into the labels.
	JbuildVersion string `json:"jbuildVersion,omitempty"`
	// BaseName is the reference recorded in org.opencontainers.image.base.name.
	BaseName string `json:"baseName,omitempty"`
	// Params set profile parameters (OptParam); a name the profile
	// does not declare is an error.
	Params map[string]string `json:"params,omitempty"`
	// RuntimeVersion overrides the detected runtime version (major.minor,
	// e.g. "8.2"), for images whose config and files do not reveal it.
	RuntimeVersion string `json:"runtimeVersion,omitempty"`
	// Previous holds the settings recorded in the image being upgraded
	// (LabelSettings); they fill in what the user did not give now.
	Previous *Recorded `json:"previous,omitempty"`
	// Names words the options in Make's errors, refusal hints and
	// evidence in the caller's terms (the CLI's flags, the frontend's
	// build args); nil means Neutral.
	Names Namer `json:"-"`
}

// Finding is one conclusion with the evidence that led to it.
type Finding struct {
	Value    string   `json:"value"`
	Evidence []string `json:"evidence"`
}

// User is the image's runtime user, resolved to numeric ids.
type User struct {
	Spec     string   `json:"spec"` // the config's USER as written ("" = root)
	UID      int      `json:"uid"`
	GID      int      `json:"gid"`
	Evidence []string `json:"evidence"`
}

// EnvOp is how one variable is changed.
type EnvOp string

const (
	EnvSet     EnvOp = "set"     // replace whatever is there
	EnvDefault EnvOp = "default" // set only when the image has no value
	EnvAppend  EnvOp = "append"  // existing + sep + value, unless already present
	EnvPrepend EnvOp = "prepend" // value + sep + existing, unless already present
)

// EnvChange is one environment operation with its effect on this image.
type EnvChange struct {
	Name      string `json:"name"`
	Op        EnvOp  `json:"op"`
	Value     string `json:"value"`
	Separator string `json:"separator,omitempty"`
	// ValueIfUnset replaces Value for append/prepend when the image has no
	// value (":/dir" keeps PHP's default ini scan dir).
	ValueIfUnset string `json:"valueIfUnset,omitempty"`
	// Before is the image's value ("" with HadBefore=false when unset);
	// After is the value the wrapped image gets.
	Before    string `json:"before,omitempty"`
	HadBefore bool   `json:"hadBefore"`
	After     string `json:"after"`
}

// FileType of a layer entry.
type FileType string

const (
	TypeDir     FileType = "dir"
	TypeFile    FileType = "file"
	TypeSymlink FileType = "symlink"
)

// LayerEntry is one entry of the agent layer, in the order it is written.
type LayerEntry struct {
	Path string      `json:"path"` // absolute path in the image, no trailing slash
	Type FileType    `json:"type"`
	Mode fs.FileMode `json:"mode"` // permission bits only
	UID  int         `json:"uid"`
	GID  int         `json:"gid"`
	// Exactly one of From (a bundle-relative path whose content is copied),
	// Content (generated, e.g. the agent config file) or Link (symlink target)
	// is set for files and symlinks.
	From    string `json:"from,omitempty"`
	Content []byte `json:"content,omitempty"`
	Link    string `json:"link,omitempty"`
	Size    int64  `json:"size,omitempty"`
}

// Plan is every change jbuild makes to one image (one platform).
type Plan struct {
	SchemaVersion int              `json:"schemaVersion"`
	Source        string           `json:"source"`
	SourceDigest  string           `json:"sourceDigest,omitempty"`
	Platform      ocispec.Platform `json:"platform"`
	Profile       string           `json:"profile"`
	Runtime       Finding          `json:"runtime"`
	// RuntimeVersion is major.minor when known ("8.2"), with its evidence.
	RuntimeVersion Finding `json:"runtimeVersion"`
	Libc           Finding `json:"libc"`
	Arch           Finding `json:"arch"`
	User           User    `json:"user"`
	Agent          Agent   `json:"agent"`
	InstallDir     string  `json:"installDir"`
	// ConfigFile is the absolute path of the agent config file the layer
	// carries with generated content ("" when the profile has none).
	ConfigFile string `json:"configFile,omitempty"`
	// Layer is the agent layer: the bundle as shipped under InstallDir,
	// root-owned, with fixed modes. It depends on the agent alone, so it is
	// byte-identical for every image wrapped with the same agent, whichever
	// path built it (wrap, the frontend, `jbuild agent push`): registries
	// store it once and nodes pull it once.
	Layer []LayerEntry `json:"layer"`
	// Settings is the small per-image layer on top: the generated agent
	// config, generated files, and the writable directories owned by the
	// image's user. It is exactly what differs between the final view of the
	// install dir and the agent layer.
	Settings []LayerEntry      `json:"settings"`
	Env      []EnvChange       `json:"env"`
	Labels   map[string]string `json:"labels"`
	// Volumes are the absolute directories that must be writable at run
	// time and hold nothing from the image, so a read-only root filesystem
	// can give each one a tmpfs or an emptyDir without hiding files: the
	// writable dirs that ship no files (Java's logs/, not conf/, which
	// carries jennifer.conf) plus the profile's volumes. Recorded in the
	// io.jbuild.volumes label for `jbuild verify --run` and `jbuild k8s`.
	Volumes []string `json:"volumes,omitempty"`
	// Carried lists the settings taken over from the image being upgraded
	// because they were not given now ("server address 10.0.0.5").
	Carried []string `json:"carried,omitempty"`
	// Unread lists the image's layers planning did not read, and why
	// (UnreadLayers): what it concluded stands on the others.
	Unread   []string `json:"unread,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}
