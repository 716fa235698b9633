package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/runcheck"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/verify"
)

// errVerifyFailed makes the exit code 1 after the report is printed.
var errVerifyFailed = fmt.Errorf("verification failed")

func newVerifyCmd(g *globalFlags) *cobra.Command {
	var output, engine, profile string
	var run bool
	var wait time.Duration
	c := &cobra.Command{
		Use:   "verify IMAGE",
		Short: "Check that an image is a sound monitored variant",
		Long: `verify checks, from the image alone: jbuild's labels; the agent files present and
readable by the image's user; the agent's writable directories writable by that user; agent
files root-owned, not writable by others, never setuid; the environment the profile sets; and,
when the base image can be found, that entrypoint, cmd, user, workdir, exposed ports, labels
and healthcheck are the base's. Every platform of an index is checked. The exit code is 1 when
a check fails.`,
		Example: `  jbuild verify registry.example.com/shop/api:1.2-jennifer
  jbuild verify oci:./layout:app-1.0-jennifer -o json
  jbuild verify docker-daemon:shop/api:1.2-jennifer --run
  jbuild verify containerd:registry.example.com/shop/api:1.2-jennifer --run --wait 1m
  jbuild verify registry.example.com/shop/api:1.2-opentelemetry --profile ./opentelemetry-java.yaml`,
		Args: exactArgs(1, "one IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := checkFormat(output); err != nil {
				return err
			}
			stores := storeOptions(g)
			st, err := openStore(g, args[0], stores)
			if err != nil {
				return err
			}
			prof, err := loadProfile(profile)
			if err != nil {
				return usageError{fmt.Errorf("--profile: %w", err)}
			}
			reports, err := verify.Store(ctx, st, stores, prof)
			if err != nil {
				return err
			}
			if err := printReports(cmd.OutOrStdout(), reports, output, g.quiet); err != nil {
				return err
			}
			for _, r := range reports {
				if !r.OK() {
					return errVerifyFailed
				}
			}
			if !run {
				return nil
			}
			res, err := verifyRun(ctx, g, st, stores, engine, wait, prof)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "run: %s\n", res)
			if !res.Connected {
				fmt.Fprintf(cmd.ErrOrStderr(), "--- container output ---\n%s\n", res.Logs)
				return fmt.Errorf("the agent did not report within %s (%s run check): %w", wait, res.Kind, errVerifyFailed)
			}
			return nil
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "text", "output `FORMAT`: text, json or yaml (with -q, text lists only failed checks and a summary)")
	c.Flags().BoolVar(&run, "run", false, "also run the image (read-only root, its own user, a writable mount per agent directory, host network) and wait for the agent to report to a throw-away receiver on 127.0.0.1: a data server for JENNIFER's agents, an OTLP/HTTP or HTTP endpoint for the profiles that say so (runCheck)")
	c.Flags().StringVar(&engine, "engine", "", "where --run starts the image: docker or containerd (default: the image's own store; other images are loaded into Docker for the run)")
	c.Flags().DurationVar(&wait, "wait", 30*time.Second, "how long --run waits for the agent")
	c.Flags().StringVar(&profile, "profile", "", "the agent's `PROFILE`, a built-in name or a profile file (default: the one the image carries, else the built-in one it names)")
	return c
}

// verifyRun runs the image in the engine that holds it, or loads it into
// Docker under a temporary name for the run.
func verifyRun(ctx context.Context, g *globalFlags, st transport.Store, stores transport.Options, engine string, wait time.Duration, prof *buildplan.Profile) (*runcheck.Result, error) {
	a, err := st.Get(ctx)
	if err != nil {
		return nil, err
	}
	img := a.Image
	if img == nil {
		if img, err = hostImage(a.Index); err != nil {
			return nil, err
		}
	}
	ref := st.Ref()
	o := verify.RunOptions{
		DockerHost:        stores.Docker.Host,
		ContainerdAddress: stores.Containerd.Address,
		Namespace:         stores.Containerd.Namespace,
		Wait:              wait,
		Profile:           prof,
	}
	switch {
	case ref.Kind == transport.KindDockerDaemon && engine != runcheck.EngineContainerd:
		o.Engine, o.Image = runcheck.EngineDocker, ref.Image.String()
	case ref.Kind == transport.KindContainerd && engine != runcheck.EngineDocker:
		o.Engine, o.Image = runcheck.EngineContainerd, ref.Image.Name()
	default:
		if engine == "" {
			engine = runcheck.EngineDocker
		}
		tmp, cleanup, err := verify.LoadForRun(ctx, img, engine, stores)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		o.Engine, o.Image = engine, tmp
	}
	return verify.Run(ctx, img, o)
}

// hostImage picks the image of an index for this machine's platform.
func hostImage(idx v1.ImageIndex) (v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	want := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	for _, d := range im.Manifests {
		if d.Platform != nil && d.Platform.Satisfies(want) {
			return idx.Image(d.Digest)
		}
	}
	return nil, fmt.Errorf("the index has no %s image to run here", want.String())
}

// printReports prints every check, or with -q (text) only the failed
// ones and one summary line per image.
func printReports(w io.Writer, reports []*verify.Report, format string, quiet bool) error {
	switch format {
	case "json", "yaml":
		return writeDoc(w, reports, format)
	case "text", "":
		for _, r := range reports {
			if !quiet {
				r.WriteText(w)
				continue
			}
			ok, failed, skipped := 0, 0, 0
			for _, c := range r.Checks {
				switch {
				case c.Skipped:
					skipped++
				case c.OK:
					ok++
				default:
					failed++
					fmt.Fprintf(w, "%s (%s): FAIL %s: %s\n", r.Image, r.Platform, c.Name, c.Detail)
				}
			}
			fmt.Fprintf(w, "%s (%s): %d passed, %d failed, %d skipped\n", r.Image, r.Platform, ok, failed, skipped)
		}
		return nil
	}
	return checkFormat(format)
}
