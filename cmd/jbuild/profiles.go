package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/jbuild-dev/jbuild/templates"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

func newProfilesCmd(g *globalFlags) *cobra.Command {
	c := &cobra.Command{
		Use:   "profiles [NAME]",
		Short: "List the built-in agent profiles, or print one as YAML",
		Long: `profiles lists the agent profiles built into jbuild. With a NAME it prints that
profile as YAML: a starting point for a profile of your own (--profile FILE).`,
		Example: `  jbuild profiles
  jbuild profiles jennifer-java > my-java.yaml`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			if len(args) == 1 {
				p, err := templates.Lookup(args[0])
				if err != nil {
					return err
				}
				b, err := yaml.Marshal(p)
				if err != nil {
					return err
				}
				_, err = w.Write(b)
				return err
			}
			all, err := templates.Profiles()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tRUNTIME\tINSTALL DIR\tDESCRIPTION")
			for _, p := range all {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.Name, p.Runtime, p.InstallDir, p.Description)
			}
			return tw.Flush()
		},
	}
	return c
}
