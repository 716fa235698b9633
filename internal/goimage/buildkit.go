package goimage

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	dockerconfig "github.com/docker/cli/cli/config"
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
)

// contextName is the local context BuildKit reads the staged files from.
const contextName = "jbuild-goimage"

// Registry is where Push has BuildKit push the index.
type Registry struct {
	// Ref is the image reference; required.
	Ref string
	// Insecure pushes over plain HTTP.
	Insecure bool
}

// Push compiles the spec's package for every platform of opts on this
// host (Go needs no emulation), sends the binaries and files to BuildKit
// (c) as one local context, has it assemble one root file system per
// platform through LLB and push the OCI index to to.Ref, and returns the
// pushed digest. Registry credentials come from the Docker config, as for
// buildctl.
func (s Spec) Push(ctx context.Context, c *client.Client, to Registry, opts Options) (string, error) {
	if to.Ref == "" {
		return "", fmt.Errorf("building the %s image: no image reference to push to", s.Name)
	}
	var digest string
	err := s.staged(ctx, opts, func(opts Options, dir string) (err error) {
		digest, err = s.solve(ctx, c, to, opts, dir)
		return err
	})
	return digest, err
}

// solve has BuildKit build and push the image from the staged dir.
func (s Spec) solve(ctx context.Context, c *client.Client, to Registry, opts Options, dir string) (string, error) {
	fs, err := fsutil.NewFS(dir)
	if err != nil {
		return "", err
	}
	attrs := map[string]string{"name": to.Ref, "push": "true", "oci-mediatypes": "true"}
	if to.Insecure {
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
		resp, err = c.Build(ectx, solveOpt, "jbuild-goimage", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
			return s.gatewayBuild(ctx, gw, opts)
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
		return "", fmt.Errorf("building the %s image on BuildKit: %w", s.Name, err)
	}
	return resp.ExporterResponse[exptypes.ExporterImageDigestKey], nil
}

// State is the LLB of platform p's root file system: one file op on
// scratch that makes the spec's files from the staged local context. Every
// file is created with its mode and owner and the time created, so the
// layer depends on the inputs only.
func (s Spec) State(p v1.Platform, created time.Time) llb.State {
	local := llb.Local(contextName, llb.SharedKeyHint(contextName))
	ct := llb.WithCreatedTime(created)
	var fa *llb.FileAction // nil chains: (*FileAction)(nil).Mkdir is llb.Mkdir
	for i, f := range s.Files {
		mode := os.FileMode(f.Mode)
		if f.Dir && f.Mode&^0o777 == 0 {
			opts := []llb.MkdirOption{ct}
			if f.UID != 0 {
				opts = append(opts, llb.WithUIDGID(f.UID, f.UID))
			}
			fa = fa.Mkdir(f.Path, mode, opts...)
			continue
		}
		// A file, or a directory with a sticky bit (Mkdir masks the mode
		// to 0777; a copy sets it).
		fa = fa.Copy(local, s.source(i, p), f.Path, &llb.CopyInfo{
			Mode:        &llb.ChmodOpt{Mode: mode},
			CreatedTime: &created,
			ChownOpt:    &llb.ChownOpt{User: &llb.UserOpt{UID: f.UID}, Group: &llb.UserOpt{UID: f.UID}},
		})
	}
	return llb.Scratch().File(fa, llb.WithCustomName(s.Name+" image root file system ("+p.String()+")"))
}

// gatewayBuild is the gateway build: one root file system per platform,
// its config, and the platform list the image exporter turns into an
// index.
func (s Spec) gatewayBuild(ctx context.Context, gw gwclient.Client, opts Options) (*gwclient.Result, error) {
	res := gwclient.NewResult()
	var eps exptypes.Platforms
	for _, p := range opts.Platforms {
		op := ocispecs.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant}
		def, err := s.State(p, opts.Created).Marshal(ctx, llb.Platform(op))
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
		cfg, err := json.Marshal(s.Config(p, opts))
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
