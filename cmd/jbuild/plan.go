package main

import (
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/spf13/cobra"
)

func newPlanCmd(g *globalFlags) *cobra.Command {
	var pf planFlags
	var output string
	c := &cobra.Command{
		Use:   "plan SOURCE",
		Short: "Show every change wrap would make, and why, without writing anything",
		Long: `plan detects the runtime, C library, CPU architecture and user of SOURCE (and says
from which evidence), and prints the agent files with owner and mode, the
generated agent config, every environment change before -> after, and the
labels wrap would write. It writes nothing. -o json prints the same as JSON.`,
		Example: `  jbuild plan registry.example.com/shop/api:1.2 --agent ./agent.java --server-address 10.0.0.5
  jbuild plan oci:./layout:app-1.0 --agent agent.java.zip --server-address 10.0.0.5 -o json`,
		Args: exactArgs(1, "one SOURCE image"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			stores := storeOptions(g)
			src, err := openStore(g, args[0], stores)
			if err != nil {
				return err
			}
			opts, err := pf.options(ctx, g, stores)
			if err != nil {
				return err
			}
			res, err := wrap.Plan(ctx, src, opts)
			if err != nil {
				return err
			}
			return printPlan(cmd.OutOrStdout(), res, output)
		},
	}
	pf.register(c.Flags())
	c.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return c
}
