package main

import (
	"fmt"
	"os"

	"github.com/jbuild-dev/jbuild/internal/progress"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/spf13/cobra"
)

func newWrapCmd(g *globalFlags) *cobra.Command {
	var pf planFlags
	var target string
	var dryRun, force bool
	var builder string
	var output string
	var wf wrapFilesFlags
	c := &cobra.Command{
		Use:   "wrap SOURCE | wrap -f MANIFEST...",
		Short: "Write the monitored variant of an image (agent layer + activating settings)",
		Long: `wrap reads SOURCE, detects its runtime, adds the agent as one layer and merges the
settings that activate it into the image config, and writes the result to
TARGET (default: the same repository, tag + "-jennifer").

Registry to registry, base layers are never downloaded: they are mounted or
found in the target repository, each blob is uploaded once, and the tag is
written last. Every platform of a multi-platform image is wrapped. Wrapping a
jbuild output replaces its agent (agent upgrade) instead of adding a second one.
The source is never overwritten; an existing target that is not jbuild's output
of the same source is refused unless --force.

With -f, wrap reads Kubernetes manifests instead of a SOURCE: every container
and init container image in them is wrapped once (target: tag + "-jennifer"
in the same repository) and the manifests are rewritten to the monitored
variants pinned by digest (REPO:TAG-jennifer@sha256:...), only the image
values changing. Images that cannot be monitored are left alone with a note;
if any wrap fails, no file is changed. --kustomize prints a kustomize
images: patch instead of editing the files.`,
		Example: `  # registry to registry, target registry.example.com/shop/api:1.2-jennifer
  jbuild wrap registry.example.com/shop/api:1.2 --agent ./agent.java --server-address 10.0.0.5

  # an agent zip from the view server, explicit target
  jbuild wrap registry.example.com/shop/api:1.2 -t registry.example.com/shop/api:1.2-apm \
      --agent http://jennifer-view:7900/download/agent/java/latest --server-address 10.0.0.5

  # OCI layout in, OCI layout out; show the plan only
  jbuild wrap oci:./layout:app-1.0 --agent agent.java.zip --server-address 10.0.0.5 --dry-run

  # on a (remote) BuildKit daemon, with BuildKit's progress display
  jbuild wrap registry.example.com/shop/api:1.2 --builder tcp://buildkitd:1234 \
      --agent registry.example.com/jennifer/agent:java-5.6.4 --server-address 10.0.0.5

  # upgrade the agent of an already wrapped image in place
  jbuild wrap registry.example.com/shop/api:1.2-jennifer --agent ./agent.java-5.7

  # every image of the manifests, written back pinned by digest
  jbuild wrap -f k8s/ --agent ./agent.java --server-address 10.0.0.5

  # the same as a kustomize images: patch, manifests untouched
  jbuild wrap -f base/deployment.yaml --kustomize --agent ./agent.java --server-address 10.0.0.5`,
		Args: func(c *cobra.Command, args []string) error {
			if len(wf.files) == 0 {
				if wf.kustomize {
					return usageError{fmt.Errorf("--kustomize needs -f MANIFEST")}
				}
				return exactArgs(1, "one SOURCE image (or -f MANIFEST...)")(c, args)
			}
			if len(args) > 0 {
				return usageError{fmt.Errorf("%s: -f takes the images from the manifests; give no SOURCE (got %q)", c.CommandPath(), args)}
			}
			if target != "" || builder != "" {
				return usageError{fmt.Errorf("%s -f: -t and --builder are not supported (each image's target is its tag + the agent's suffix, %q for JENNIFER's)", c.CommandPath(), targetSuffix)}
			}
			if output != "text" {
				return usageError{fmt.Errorf("%s -f: -o is not supported", c.CommandPath())}
			}
			return nil
		},
		RunE: withLocalHint(g, func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			// -o is checked before anything is read or written.
			if err := checkFormat(output); err != nil {
				return err
			}
			if len(wf.files) > 0 {
				return runWrapFiles(ctx, g, &pf, &wf, dryRun, force, cmd.OutOrStdout(), os.Stderr)
			}
			stores := storeOptions(g)
			src, err := openStore(g, args[0], stores)
			if err != nil {
				return err
			}
			// BuildKit runs the wrap only when asked with --builder:
			// BUILDKIT_HOST (set in many CI images for buildctl) is not
			// read, so it never moves or breaks a local wrap.
			if builder != "" && !dryRun {
				if output != "text" {
					return usageError{fmt.Errorf("-o %s: not with --builder (BuildKit writes the image; its reference and digest are printed)", output)}
				}
				if target == "" {
					suffix := targetSuffix
					if prof, err := loadProfile(pf.profile); err == nil && prof != nil {
						suffix = prof.Suffix()
					}
					if target, err = defaultTarget(src.Ref(), suffix); err != nil {
						return err
					}
				}
				dst, err := openStore(g, target, stores)
				if err != nil {
					return err
				}
				return wrapOnBuilder(ctx, g, builder, &pf, src, dst, force, cmd.OutOrStdout())
			}
			opts, err := pf.options(ctx, g, stores)
			if err != nil {
				return err
			}
			opts.Force = force
			if target == "" {
				if target, err = defaultTargetFor(ctx, src, opts); err != nil {
					return err
				}
			}
			if dryRun {
				res, err := wrap.Plan(ctx, src, opts)
				if err != nil {
					return err
				}
				res.Target = target
				return printPlan(cmd.OutOrStdout(), res, output)
			}
			disp := progress.New(os.Stderr, g.quiet, "Wrapping")
			defer disp.Close()
			// Every long step is shown: the wrap (reading the source,
			// building the agent layer; for docker-daemon: and containerd:
			// also saving and loading) and the push to a registry.
			step := disp.Step(fmt.Sprintf("wrap %s -> %s", src.Ref(), target))
			g.retries.inStep(step)
			var push *progress.Push
			if t, err := transport.Parse(target); err == nil && t.Kind == transport.KindRegistry {
				push = disp.Push(target, func() map[string]int64 { return blobSizes(ctx, src) })
				stores.Registry.Progress = push.Updates()
			}
			dst, err := openStore(g, target, stores)
			if err != nil {
				return err
			}
			if !g.quiet {
				opts.Notef = func(format string, a ...any) {
					if step == nil {
						fmt.Fprintf(os.Stderr, "note: "+format+"\n", a...)
						return
					}
					step.Notef(format, a...)
				}
			}
			res, err := wrap.Wrap(ctx, src, dst, opts)
			push.Finish(err)
			step.Done(err)
			disp.Close()
			if err != nil {
				return err
			}
			return printWrapResult(cmd.OutOrStdout(), os.Stderr, res, g.quiet, output)
		}),
	}
	pf.register(c.Flags())
	requireFlags(c, "agent")
	c.Flags().StringVarP(&target, "tag", "t", "", "`TARGET` image (default: source tag + the agent's suffix: \"-jennifer\", or the profile's targetSuffix)")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan, with the target it would write, and write nothing (same as jbuild plan)")
	c.Flags().BoolVar(&force, "force", false, "replace a target that is not jbuild's output of this source")
	c.Flags().StringVar(&builder, "builder", "", "run the wrap on the BuildKit daemon at `ADDRESS` (e.g. tcp://buildkitd:1234, unix:///run/buildkit/buildkitd.sock, or \"$BUILDKIT_HOST\"); it pulls the source and pushes the target itself. BUILDKIT_HOST alone is not read: without --builder jbuild wraps the image itself")
	c.Flags().StringVarP(&output, "output", "o", "text", "output `FORMAT`: text, json or yaml (the result: target, digest, platforms, layers added; with --dry-run the plan)")
	c.Flags().StringArrayVarP(&wf.files, "filename", "f", nil, "Kubernetes `MANIFEST` file, directory or - (repeatable): wrap every image in them and rewrite them pinned by digest")
	c.Flags().BoolVar(&wf.kustomize, "kustomize", false, "with -f: print a kustomize images: patch instead of editing the manifests")
	return c
}
