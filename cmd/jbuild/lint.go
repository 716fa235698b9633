package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/jbuild-dev/jbuild/internal/k8s"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/templates"
)

// errLintFailed makes the exit code 1 after the findings are printed.
var errLintFailed = fmt.Errorf("the manifests defeat monitoring (see the errors above)")

func newLintCmd(g *globalFlags) *cobra.Command {
	var output, prof string
	var offline bool
	c := &cobra.Command{
		Use:   "lint MANIFEST...",
		Short: "Find what in Kubernetes manifests silently defeats the agent built into an image",
		Long: `lint reads Kubernetes manifests (multi-document YAML; Deployment, StatefulSet, DaemonSet,
ReplicaSet, Job, CronJob, Pod, also inside a List; other kinds are skipped) and reports, for
every container, what makes a monitored image run unmonitored or break its agent:

  - an env entry that replaces a variable the image's plan sets (JAVA_TOOL_OPTIONS,
    NODE_OPTIONS, PYTHONPATH, CORECLR_*, PHP_INI_SCAN_DIR, ...): a pod's env replaces the
    image's value, it does not merge;
  - a command: that does not start the image's runtime (or clears the environment);
  - readOnlyRootFilesystem without a writable volume at each directory the agent writes;
  - a mount that hides the agent's files;
  - a runAsUser/runAsGroup that cannot read the agent's files or write its directories;
  - an image that is not a monitored variant.

Images are read from their registry (labels, env, user, files) when reachable; otherwise the
built-in profiles (or --profile) stand in. The exit code is 1 when an error is found.`,
		Example: `  jbuild lint deploy.yaml
  jbuild lint k8s/*.yaml -o json
  jbuild lint deploy.yaml --offline --profile jennifer-java`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("%s takes one or more MANIFEST files; see `%s --help`", c.CommandPath(), c.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			all, err := templates.Profiles()
			if err != nil {
				return err
			}
			o := k8s.LintOptions{Profiles: all}
			if prof != "" {
				if o.Profile, err = loadProfile(prof); err != nil {
					return usageError{err}
				}
			}
			if !offline {
				o.Lookup = lintLookup(g)
			}
			var ws []k8s.Workload
			for _, file := range args {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				w, err := k8s.ReadWorkloads(file, f)
				f.Close()
				if err != nil {
					return err
				}
				ws = append(ws, w...)
			}
			r := k8s.Lint(cmd.Context(), ws, o)
			switch output {
			case "json":
				if err := r.WriteJSON(cmd.OutOrStdout()); err != nil {
					return err
				}
			case "yaml":
				if err := writeDoc(cmd.OutOrStdout(), r, "yaml"); err != nil {
					return err
				}
			default:
				r.WriteText(cmd.OutOrStdout())
			}
			if r.Errors > 0 {
				return errLintFailed
			}
			return nil
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "text", "output `FORMAT`: text, json or yaml")
	c.Flags().StringVar(&prof, "profile", "", "`PROFILE` to assume for images that cannot be read (default: every built-in profile)")
	c.Flags().BoolVar(&offline, "offline", false, "do not read the images from their registries")
	return c
}

// lintLookup reads an image named in a manifest from its registry.
func lintLookup(g *globalFlags) k8s.Lookup {
	return func(ctx context.Context, image string) (*k8s.Image, error) {
		ref, err := transport.Parse(image)
		if err != nil {
			return nil, err
		}
		if ref.Kind != transport.KindRegistry {
			return nil, fmt.Errorf("not a registry reference")
		}
		st, err := transport.Open(ref, storeOptions(g))
		if err != nil {
			return nil, err
		}
		g.onExit(st.Close)
		return k8s.Inspect(ctx, st)
	}
}
