package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/util/progress/progressui"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"
	"golang.org/x/sync/errgroup"
)

// RemoteWrap is a `jbuild wrap --builder`: the same injection as the
// frontend, run on a BuildKit daemon against a registry image, pushed by
// BuildKit. This is how wrapping scales beyond one machine (a remote
// buildkitd, buildx's kubernetes driver).
type RemoteWrap struct {
	Source string // registry reference
	Target string // registry reference to push
	// Platforms to wrap; one entry for a single-platform source.
	Platforms []ocispecs.Platform
	Settings  *Settings
	// AgentDir, when set, is a local agent folder sent through the session
	// as the jennifer-agent build context (else Settings.AgentRef).
	AgentDir string
	// Insecure pushes over plain HTTP (loopback and private registries).
	Insecure bool
	// Progress receives BuildKit's progress display; nil means none.
	Progress io.Writer
}

// WrapOnBuilder runs w on the daemon c and returns the pushed digest.
func WrapOnBuilder(ctx context.Context, c *client.Client, w RemoteWrap) (string, error) {
	attrs := map[string]string{"name": w.Target, "push": "true"}
	if w.Insecure {
		attrs["registry.insecure"] = "true"
	}
	opt := client.SolveOpt{
		Exports:       []client.ExportEntry{{Type: client.ExporterImage, Attrs: attrs}},
		FrontendAttrs: map[string]string{},
	}
	if w.AgentDir != "" {
		fs, err := fsutil.NewFS(w.AgentDir)
		if err != nil {
			return "", fmt.Errorf("agent folder %s: %w", w.AgentDir, err)
		}
		opt.LocalMounts = map[string]fsutil.FS{AgentContext: fs}
		opt.FrontendAttrs["context:"+AgentContext] = "local:" + AgentContext
	}
	ch := make(chan *client.SolveStatus)
	eg, ctx := errgroup.WithContext(ctx)
	var resp *client.SolveResponse
	eg.Go(func() error {
		var err error
		resp, err = c.Build(ctx, opt, "jbuild", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
			return remoteWrap(ctx, gw, w)
		}, ch)
		return err
	})
	eg.Go(func() error {
		// The client sends every status on ch until the build ends and
		// closes it; the display returns early when ctx is cancelled, so
		// keep reading or the build (and WrapOnBuilder) never returns.
		defer func() {
			for range ch {
			}
		}()
		out := w.Progress
		if out == nil {
			out = io.Discard
		}
		mode := progressui.AutoMode
		if w.Progress == nil {
			mode = progressui.QuietMode
		}
		d, err := progressui.NewDisplay(out, mode)
		if err != nil {
			return err
		}
		_, err = d.UpdateFrom(ctx, ch)
		return err
	})
	if err := eg.Wait(); err != nil {
		return "", fmt.Errorf("wrapping %s on BuildKit: %w", w.Source, err)
	}
	return resp.ExporterResponse[exptypes.ExporterImageDigestKey], nil
}

func remoteWrap(ctx context.Context, gw gwclient.Client, w RemoteWrap) (*gwclient.Result, error) {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	inj := NewInjector(ctx, gw, w.Settings, stop)
	inj.Preload(w.Platforms...)
	// Platforms are wrapped side by side, each alongside its agent's load.
	outs := make([]*Injected, len(w.Platforms))
	refs := make([]gwclient.Reference, len(w.Platforms))
	eg, ctx := errgroup.WithContext(ctx)
	for i, p := range w.Platforms {
		eg.Go(func() (err error) {
			outs[i], refs[i], err = wrapPlatform(ctx, gw, inj, w.Source, p)
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		if aerr := inj.agents.err(); aerr != nil {
			return nil, aerr
		}
		return nil, err
	}
	res := gwclient.NewResult()
	multi := len(w.Platforms) > 1
	var eps exptypes.Platforms
	for i, p := range w.Platforms {
		id := platformString(p)
		if !multi {
			res.SetRef(refs[i])
			res.AddMeta(exptypes.ExporterImageConfigKey, outs[i].Config)
		} else {
			res.AddRef(id, refs[i])
			res.AddMeta(exptypes.ExporterImageConfigKey+"/"+id, outs[i].Config)
		}
		eps.Platforms = append(eps.Platforms, exptypes.Platform{ID: id, Platform: p})
	}
	dt, err := json.Marshal(eps)
	if err != nil {
		return nil, err
	}
	res.AddMeta(exptypes.ExporterPlatformsKey, dt)
	return res, nil
}

// wrapPlatform injects the agent into one platform of the source image and
// solves the result.
func wrapPlatform(ctx context.Context, gw gwclient.Client, inj *Injector, source string, p ocispecs.Platform) (*Injected, gwclient.Reference, error) {
	_, dgst, cfg, err := gw.ResolveImageConfig(ctx, source, sourceresolver.Opt{ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &p}})
	if err != nil {
		return nil, nil, fmt.Errorf("source %s (%s): %w", source, platformString(p), err)
	}
	ref, err := solve(ctx, gw, llb.Image(source+"@"+dgst.String(), llb.Platform(p)), p)
	if err != nil {
		return nil, nil, err
	}
	out, err := inj.Inject(ctx, Target{Ref: ref, Config: cfg, Platform: p, Name: source, BaseDigest: dgst.String(), BaseName: source})
	if err != nil {
		return nil, nil, err
	}
	if out.Unchanged {
		return nil, nil, fmt.Errorf("%s already carries the agent; wrap its original image instead", source)
	}
	newRef, err := solve(ctx, gw, out.State, p)
	if err != nil {
		return nil, nil, err
	}
	return out, newRef, nil
}
