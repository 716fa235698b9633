package main

import (
	"fmt"
	"os"

	"github.com/jbuild-dev/jbuild/internal/progress"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/spf13/cobra"
)

func newUnwrapCmd(g *globalFlags) *cobra.Command {
	var target string
	var force bool
	c := &cobra.Command{
		Use:   "unwrap IMAGE",
		Short: "Write back the exact original image a jbuild output was made from",
		Long: `unwrap finds the base a jbuild output records (org.opencontainers.image.base.digest)
next to the output, where wrap keeps it, or where base.name points, checks its
digest and writes it to TARGET (default: the tag without its agent's suffix, "-jennifer" for JENNIFER).`,
		Example: `  jbuild unwrap registry.example.com/shop/api:1.2-jennifer          # -> ...api:1.2
  jbuild unwrap oci:./layout:app-1.0-jennifer -t oci:./layout:app-1.0-orig`,
		Args: exactArgs(1, "one IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			stores := storeOptions(g)
			src, err := openStore(g, args[0], stores)
			if err != nil {
				return err
			}
			if target == "" {
				labels, err := outputLabels(ctx, src)
				if err != nil {
					return err
				}
				if target, err = defaultUnwrapTarget(src.Ref(), labels); err != nil {
					return err
				}
			}
			disp := progress.New(os.Stderr, g.quiet, "Unwrapping")
			defer disp.Close()
			step := disp.Step(fmt.Sprintf("unwrap %s -> %s", src.Ref(), target))
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
			res, err := wrap.Unwrap(ctx, src, dst, wrap.Options{Force: force, Stores: stores})
			push.Finish(err)
			step.Done(err)
			disp.Close()
			if err != nil {
				return err
			}
			if res.Unchanged && !g.quiet {
				fmt.Fprintf(os.Stderr, "%s already is the original image; nothing written\n", res.Target)
			}
			fmt.Fprintln(cmd.OutOrStdout(), transport.Printed(res.Target, res.TargetDigest))
			return nil
		},
	}
	c.Flags().StringVarP(&target, "tag", "t", "", "`TARGET` image (default: the tag without its agent's suffix, \"-jennifer\" for JENNIFER)")
	c.Flags().BoolVar(&force, "force", false, "replace a target that holds another image")
	return c
}
