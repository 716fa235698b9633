// Package selfimage builds the container image of jbuild itself, the step
// image of the CI templates, on BuildKit through LLB, the same path the
// jbuild frontend and `wrap --builder` use.
//
// The image is a static jbuild on an empty root: no shell, no package
// manager, nothing to patch. Per platform it holds
//
//	/usr/local/bin/jbuild               root:root 0755 (CGO_ENABLED=0, -trimpath)
//	/etc/passwd, /etc/group             root and jbuild (65532), no login shell
//	/etc/ssl/certs/ca-certificates.crt  the build host's CA bundle, for registry TLS
//	/home/jbuild                        65532:65532 0755 (HOME: Docker config, caches)
//	/tmp                                root:root 1777
//
// and runs as USER 65532:65532 with ENTRYPOINT ["/usr/local/bin/jbuild"].
// Every platform is cross-compiled on the host (Go needs no emulation) and
// sent to BuildKit as one local context; BuildKit assembles the layers and
// pushes an OCI index of all platforms.
package selfimage

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/util/progress/progressui"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"

	dockerconfig "github.com/docker/cli/cli/config"
)

// Fixed facts of the image.
const (
	DefaultPackage = "./cmd/jbuild"
	BinaryPath     = "/usr/local/bin/jbuild"
	UID            = 65532
	UserName       = "jbuild"
	Home           = "/home/jbuild"
	CACertsPath    = "/etc/ssl/certs/ca-certificates.crt"
	// DefaultHostCACerts is where Debian and Ubuntu keep the CA bundle.
	DefaultHostCACerts = "/etc/ssl/certs/ca-certificates.crt"
	Source             = "https://github.com/jbuild-dev/jbuild"
	contextName        = "jbuild-selfimage"
)

// DefaultPlatforms are built when Options.Platforms is empty.
var DefaultPlatforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
}

// Options say what to build and where to push it.
type Options struct {
	// Ref is the registry reference BuildKit pushes the index to; required.
	Ref string
	// Insecure pushes over plain HTTP.
	Insecure bool
	// Dir is the module root go build runs in ("" = current directory).
	Dir string
	// Package is the main package (default DefaultPackage).
	Package string
	// Platforms (default DefaultPlatforms).
	Platforms []v1.Platform
	// Version goes into main.version and the version label (default "dev").
	Version string
	// Revision is the VCS revision label; "" leaves it out.
	Revision string
	// HostCACerts is the CA bundle copied into the image
	// (default DefaultHostCACerts).
	HostCACerts string
	// Created is the image's created time and every file's mtime; zero
	// means $SOURCE_DATE_EPOCH, else the Unix epoch.
	Created time.Time
	// Go is the go command (default "go").
	Go string
	// Log gets one line per compiled platform; Progress BuildKit's display.
	// nil discards.
	Log, Progress io.Writer
}

func (o Options) withDefaults() (Options, error) {
	if o.Ref == "" {
		return o, fmt.Errorf("no image reference to push to")
	}
	if o.Package == "" {
		o.Package = DefaultPackage
	}
	if len(o.Platforms) == 0 {
		o.Platforms = DefaultPlatforms
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if strings.ContainsAny(o.Version, " \t\n'\"") {
		return o, fmt.Errorf("version %q: must not contain white space or quotes", o.Version)
	}
	if o.HostCACerts == "" {
		o.HostCACerts = DefaultHostCACerts
	}
	if o.Created.IsZero() {
		o.Created = time.Unix(0, 0).UTC()
		if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
			sec, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return o, fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", v, err)
			}
			o.Created = time.Unix(sec, 0).UTC()
		}
	}
	if o.Go == "" {
		o.Go = "go"
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o, nil
}

// Build compiles jbuild for every platform, has BuildKit (c) assemble and
// push the image index to opts.Ref, and returns the pushed digest.
// Registry credentials come from the Docker config, as for buildctl.
func Build(ctx context.Context, c *client.Client, opts Options) (string, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return "", fmt.Errorf("building the jbuild image: %w", err)
	}
	dir, err := os.MkdirTemp("", "jbuild-selfimage-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if err := writeContext(ctx, dir, opts); err != nil {
		return "", fmt.Errorf("building the jbuild image: %w", err)
	}
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		return "", err
	}
	attrs := map[string]string{"name": opts.Ref, "push": "true", "oci-mediatypes": "true"}
	if opts.Insecure {
		attrs["registry.insecure"] = "true"
	}
	solveOpt := client.SolveOpt{
		Exports:     []client.ExportEntry{{Type: client.ExporterImage, Attrs: attrs}},
		LocalMounts: map[string]fsutil.FS{contextName: fs},
		Session: []session.Attachable{authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
			AuthConfigProvider: authprovider.LoadAuthConfig(dockerconfig.LoadDefaultConfigFile(io.Discard)),
		})},
	}
	ch := make(chan *client.SolveStatus)
	eg, ectx := errgroup.WithContext(ctx)
	var resp *client.SolveResponse
	eg.Go(func() error {
		var err error
		resp, err = c.Build(ectx, solveOpt, "jbuild-selfimage", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
			return build(ctx, gw, opts)
		}, ch)
		return err
	})
	eg.Go(func() error {
		out, mode := opts.Progress, progressui.AutoMode
		if out == nil {
			out, mode = io.Discard, progressui.QuietMode
		}
		d, err := progressui.NewDisplay(out, mode)
		if err != nil {
			return err
		}
		_, err = d.UpdateFrom(ectx, ch)
		return err
	})
	if err := eg.Wait(); err != nil {
		return "", fmt.Errorf("building the jbuild image on BuildKit: %w", err)
	}
	return resp.ExporterResponse[exptypes.ExporterImageDigestKey], nil
}

// binName is the context file of a platform's binary.
func binName(p v1.Platform) string {
	return "jbuild-" + strings.ReplaceAll(p.String(), "/", "-")
}

// writeContext fills the local context BuildKit reads: one binary per
// platform, passwd, group, the CA bundle and an empty tmp/.
func writeContext(ctx context.Context, dir string, opts Options) error {
	for _, p := range opts.Platforms {
		start := time.Now()
		if err := compile(ctx, opts, p, filepath.Join(dir, binName(p))); err != nil {
			return err
		}
		fmt.Fprintf(opts.Log, "selfimage: %s: compiled %s in %s\n", p, opts.Package, time.Since(start).Round(100*time.Millisecond))
	}
	certs, err := os.ReadFile(opts.HostCACerts)
	if err != nil {
		return fmt.Errorf("CA certificates for registry TLS: %w (install ca-certificates, or pass another bundle)", err)
	}
	files := map[string]string{
		"passwd":              fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:%s:/sbin/nologin\n", UserName, UID, UID, UserName, Home),
		"group":               fmt.Sprintf("root:x:0:\n%s:x:%d:\n", UserName, UID),
		"ca-certificates.crt": string(certs),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			return err
		}
	}
	return os.Mkdir(filepath.Join(dir, "tmp"), 0o755)
}

// State is the LLB of one platform's root file system. Every file is
// root-owned and read-only for others except HOME (the jbuild user's) and
// /tmp (1777); all times are created, so the layer depends on the inputs
// only.
func State(p v1.Platform, created time.Time) llb.State {
	local := llb.Local(contextName, llb.SharedKeyHint(contextName))
	ct := llb.WithCreatedTime(created)
	cp := func(mode os.FileMode) *llb.CopyInfo {
		return &llb.CopyInfo{Mode: &llb.ChmodOpt{Mode: mode}, CreatedTime: &created, ChownOpt: &llb.ChownOpt{User: &llb.UserOpt{UID: 0}, Group: &llb.UserOpt{UID: 0}}}
	}
	fa := llb.Mkdir("/etc", 0o755, ct).
		Mkdir("/etc/ssl", 0o755, ct).
		Mkdir("/etc/ssl/certs", 0o755, ct).
		Copy(local, "passwd", "/etc/passwd", cp(0o644)).
		Copy(local, "group", "/etc/group", cp(0o644)).
		Copy(local, "ca-certificates.crt", CACertsPath, cp(0o644)).
		Mkdir("/usr", 0o755, ct).
		Mkdir("/usr/local", 0o755, ct).
		Mkdir("/usr/local/bin", 0o755, ct).
		Copy(local, binName(p), BinaryPath, cp(0o755)).
		Mkdir("/home", 0o755, ct).
		Mkdir(Home, 0o755, ct, llb.WithUIDGID(UID, UID)).
		// Mkdir masks the mode to 0777; a copy sets the sticky bit.
		Copy(local, "tmp", "/tmp", cp(0o1777))
	return llb.Scratch().File(fa, llb.WithCustomName("jbuild image root file system ("+p.String()+")"))
}

// Config is the image config of one platform.
func Config(p v1.Platform, opts Options) ocispecs.Image {
	labels := map[string]string{
		"org.opencontainers.image.title":       "jbuild",
		"org.opencontainers.image.description": "jbuild: the monitored variant of container images (JENNIFER APM agent built in)",
		"org.opencontainers.image.version":     opts.Version,
		"org.opencontainers.image.source":      Source,
		"org.opencontainers.image.url":         Source,
		"org.opencontainers.image.created":     opts.Created.Format(time.RFC3339),
	}
	if opts.Revision != "" {
		labels["org.opencontainers.image.revision"] = opts.Revision
	}
	return ocispecs.Image{
		Created:  &opts.Created,
		Platform: ocispecs.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant},
		Config: ocispecs.ImageConfig{
			User:       fmt.Sprintf("%d:%d", UID, UID),
			Entrypoint: []string{BinaryPath},
			Cmd:        []string{"--help"},
			Env: []string{
				"PATH=/usr/local/bin",
				"HOME=" + Home,
				"SSL_CERT_FILE=" + CACertsPath,
			},
			WorkingDir: Home,
			Labels:     labels,
		},
		RootFS: ocispecs.RootFS{Type: "layers"},
		History: []ocispecs.History{{
			Created:   &opts.Created,
			CreatedBy: "jbuild selfimage: " + BinaryPath + " " + opts.Version + ", /etc/passwd (jbuild 65532), CA certificates, /tmp",
		}},
	}
}

// build is the gateway build: one root file system per platform, its
// config, and the platform list the image exporter turns into an index.
func build(ctx context.Context, gw gwclient.Client, opts Options) (*gwclient.Result, error) {
	res := gwclient.NewResult()
	var eps exptypes.Platforms
	for _, p := range opts.Platforms {
		op := ocispecs.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}
		def, err := State(p, opts.Created).Marshal(ctx, llb.Platform(op))
		if err != nil {
			return nil, err
		}
		r, err := gw.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB(), Evaluate: true})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		ref, err := r.SingleRef()
		if err != nil {
			return nil, err
		}
		cfg, err := json.Marshal(Config(p, opts))
		if err != nil {
			return nil, err
		}
		id := p.String()
		res.AddRef(id, ref)
		res.AddMeta(exptypes.ExporterImageConfigKey+"/"+id, cfg)
		eps.Platforms = append(eps.Platforms, exptypes.Platform{ID: id, Platform: op})
	}
	dt, err := json.Marshal(eps)
	if err != nil {
		return nil, err
	}
	res.AddMeta(exptypes.ExporterPlatformsKey, dt)
	return res, nil
}
