package main

import (
	"fmt"

	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/spf13/cobra"
)

func newPlanCmd(g *globalFlags) *cobra.Command {
	var pf planFlags
	var output, target string
	c := &cobra.Command{
		Use:   "plan SOURCE",
		Short: "Show every change wrap would make, and why, without writing anything",
		Long: `plan detects the runtime, C library, CPU architecture and user of SOURCE (and says
from which evidence), and prints the agent files with owner and mode, the
generated agent config, every environment change before -> after, and the
labels wrap would write, and the target wrap would write (-t, as wrap's). It writes
nothing. -o json and -o yaml print the same as a document.`,
		Example: `  jbuild plan registry.example.com/shop/api:1.2 --agent ./agent.java --server-address 10.0.0.5
  jbuild plan oci:./layout:app-1.0 --agent agent.java.zip --server-address 10.0.0.5 -o json`,
		Args: exactArgs(1, "one SOURCE image"),
		RunE: withLocalHint(g, func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := checkFormat(output); err != nil {
				return err
			}
			stores := storeOptions(g)
			src, err := openStore(g, args[0], stores)
			if err != nil {
				return err
			}
			opts, err := pf.options(ctx, g, stores)
			if err != nil {
				return err
			}
			if target == "" {
				if target, err = defaultTargetFor(ctx, src, opts); err != nil {
					return err
				}
			} else if _, err := transport.Parse(target); err != nil {
				return usageError{fmt.Errorf("-t %s: %w", target, err)}
			}
			res, err := wrap.Plan(ctx, src, opts)
			if err != nil {
				return err
			}
			res.Target = target
			return printPlan(cmd.OutOrStdout(), res, output)
		}),
	}
	pf.register(c.Flags())
	requireFlags(c, "agent")
	c.Flags().StringVarP(&target, "tag", "t", "", "the `TARGET` wrap would write (default: as wrap's, the source tag + the agent's suffix)")
	c.Flags().StringVarP(&output, "output", "o", "text", "output `FORMAT`: text, json or yaml")
	return c
}
