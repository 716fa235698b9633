package agent

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// Bundle is one agent folder ready to install: its file list
// (buildplan.Agent) plus content access.
type Bundle struct {
	// Agent has Name, Version (empty unless the source states it), Source,
	// Digest, Files and ReadFile set. Files are sorted by path; directory
	// paths end in "/" ("conf/"), as buildplan.AgentFile documents.
	buildplan.Agent
	// Open returns the content of a regular file by bundle-relative path
	// ("conf/jennifer.conf"). It can be called many times, concurrently.
	Open func(rel string) (io.ReadCloser, error)
}

// Source yields the bundle for a platform.
type Source interface {
	String() string
	// Platforms lists the platforms the source has variants for; nil means
	// one platform-independent bundle.
	Platforms(ctx context.Context) ([]v1.Platform, error)
	// Bundle returns the bundle for platform (nil: the only one). The error
	// names a missing platform and lists the available ones.
	Bundle(ctx context.Context, platform *v1.Platform) (*Bundle, error)
}

// Options tune Open. The zero value is ready to use except for images,
// which need ResolveImage.
type Options struct {
	// CacheDir holds downloads and unpacked agent tars. Empty means
	// $XDG_CACHE_HOME/jbuild, else ~/.cache/jbuild.
	CacheDir string
	// BundleRoot names the folders that are the agent folder itself: when an
	// archive's only top-level entry is such a folder it is stripped, and a
	// directory holding exactly one of them is descended into. Empty means
	// any folder named agent.* (agent.java, agent.dotnet, agent.php, ...).
	BundleRoot []string
	// MaxExpandedSize caps the total size of the files in one bundle
	// (default 2 GiB): a zip or gzip bomb is rejected, not unpacked.
	MaxExpandedSize int64
	// MaxEntries caps the number of entries in one archive (default 100000).
	MaxEntries int
	// HTTPClient downloads URLs (default http.DefaultClient). Its redirect
	// policy is tightened (see redirectPolicy) and, when its Transport is
	// an *http.Transport (or nil), a copy gets ConnectTimeout.
	HTTPClient *http.Client
	// ConnectTimeout bounds connecting to an agent URL's server (TCP and
	// TLS); default 10s. HeaderTimeout bounds the wait from the start of a
	// request until the response headers (connecting and redirects
	// included); default 30s. IdleTimeout bounds a pause in the body, no
	// byte received for that long; default 30s. A server that accepts and
	// never answers, or stalls mid-download, then fails the run instead of
	// hanging a CI job until it is killed. A slow but moving download has
	// no limit.
	ConnectTimeout, HeaderTimeout, IdleTimeout time.Duration
	// CacheMax bounds the agent cache in CacheDir (downloads, unpacked
	// tars, file sums) in bytes: after a file is added, the least recently
	// used are removed until it fits. 0 means DefaultCacheMax; negative
	// means no bound.
	CacheMax int64
	// DownloadAttempts is how many times a URL download is tried when it
	// fails in a way another try may fix (a network error, a timeout, an
	// HTTP 5xx, a cut connection); default 3, 1s then 2s apart.
	DownloadAttempts int
	// ResolveImage resolves an image reference to an index or an image (one
	// of the two non-nil). The CLI wires it to its image transports.
	ResolveImage func(ctx context.Context, ref string) (v1.ImageIndex, v1.Image, error)
	// KnownDigest, for OpenFS only, is the bundle digest recorded by
	// whoever made the files (an agent image's io.jbuild.agent.digest
	// label): the files are listed and checked but not read to hash them,
	// which is most of the cost of reading a large agent through BuildKit's
	// gateway.
	KnownDigest string
	// SingleFile, when set, is the name a single-file agent is installed
	// under (a profile's agentFile): an agent given as one regular file is
	// that file, so named (openSingleFile), not an archive to unpack (a
	// .jar is a zip too).
	SingleFile string
}

const (
	defaultMaxExpandedSize  = 2 << 30
	defaultMaxEntries       = 100000
	defaultConnectTimeout   = 10 * time.Second
	defaultHeaderTimeout    = 30 * time.Second
	defaultIdleTimeout      = 30 * time.Second
	defaultDownloadAttempts = 3
)

func (o Options) withDefaults() (Options, error) {
	if o.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return o, fmt.Errorf("no cache directory for agent downloads (%w); set XDG_CACHE_HOME or HOME", err)
		}
		o.CacheDir = filepath.Join(base, "jbuild")
	}
	if o.MaxExpandedSize <= 0 {
		o.MaxExpandedSize = defaultMaxExpandedSize
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = defaultMaxEntries
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = defaultConnectTimeout
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = defaultHeaderTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = defaultIdleTimeout
	}
	if o.CacheMax == 0 {
		o.CacheMax = DefaultCacheMax
	}
	if o.DownloadAttempts <= 0 {
		o.DownloadAttempts = defaultDownloadAttempts
	}
	return o, nil
}

// Open returns the source named by spec (see the package documentation for
// the kinds). Local folders, archives and URLs are read and checked right
// away, so a bad agent fails before any image is touched.
func Open(ctx context.Context, spec string, opts Options) (Source, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	removeStaleTemps(opts)
	if spec == "" {
		return nil, fmt.Errorf("no agent given: pass an agent folder, a .zip/.tar.gz, a download URL or an agent image")
	}
	if isURL(spec) {
		b, err := openURL(ctx, spec, opts)
		if err != nil {
			return nil, err
		}
		return single{b}, nil
	}
	if fi, err := os.Stat(spec); err == nil {
		var b *Bundle
		switch {
		case fi.IsDir():
			b, err = openDir(ctx, spec, opts)
		case opts.SingleFile != "":
			b, err = openSingleFile(ctx, spec, opts.SingleFile, opts)
		default:
			b, err = openArchiveFile(ctx, spec, spec, opts)
		}
		if err != nil {
			return nil, err
		}
		return single{b}, nil
	} else if looksLikePath(spec) {
		return nil, fmt.Errorf("reading agent %s: %w", spec, err)
	}
	return openImage(ctx, spec, opts)
}

func isURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// looksLikePath tells a mistyped file name from an image reference, so
// "agnet.zip" fails as a missing file instead of a registry lookup. A colon
// means a transport or a tag ("oci-archive:agent.tar", "reg:5000/a:1"):
// those go to the image resolver.
func looksLikePath(s string) bool {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") || strings.HasPrefix(s, "~") || s == "." || s == ".." {
		return true
	}
	if strings.Contains(s, ":") {
		return false
	}
	l := strings.ToLower(s)
	for _, ext := range []string{".zip", ".tar.gz", ".tgz", ".tar"} {
		if strings.HasSuffix(l, ext) {
			return true
		}
	}
	return false
}

// single is a platform-independent source: one bundle, read at Open.
type single struct{ b *Bundle }

var _ Source = single{}

func (s single) String() string                                   { return s.b.Source }
func (s single) Platforms(context.Context) ([]v1.Platform, error) { return nil, nil }
func (s single) Bundle(context.Context, *v1.Platform) (*Bundle, error) {
	return s.b, nil
}
