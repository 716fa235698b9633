package main

import (
	"fmt"

	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/spf13/cobra"
)

// globalFlags are the flags every command has.
type globalFlags struct {
	quiet    bool
	cacheDir string
	// agentMaxSize caps what an agent archive may expand to ("2GiB").
	agentMaxSize string
	// agentMaxEntries caps the files and folders of an agent archive or
	// folder (0: the agent package's default, 100000).
	agentMaxEntries int
	stores          storeFlags
	closers         []func() error
	// retries shows registry requests tried again (retrynotes.go).
	retries retryNotes
}

// onExit registers cleanup (temp dirs of extracted archives) for the end of
// the command, whether it succeeded or not.
func (g *globalFlags) onExit(f func() error) { g.closers = append(g.closers, f) }

func (g *globalFlags) cleanup() {
	for i := len(g.closers) - 1; i >= 0; i-- {
		g.closers[i]()
	}
	g.closers = nil
}

func newRootCmd() (*cobra.Command, *globalFlags) {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "jbuild",
		Short: "Make the monitored variant of a container image (JENNIFER APM agent built in)",
		Long: `jbuild adds the JENNIFER APM agent to an existing container image as one layer and
writes the settings that activate it into the image config, so the image runs
unchanged under Docker and Kubernetes and shows up in the JENNIFER console.

Images are named as:
` + transport.KindsHelp(),
		Example: `  jbuild wrap registry.example.com/shop/api:1.2 --agent ./agent.java --server-address 10.0.0.5
  jbuild plan oci:./layout:app-1.0 --agent agent.java.zip --server-address jennifer.example.com
  jbuild unwrap registry.example.com/shop/api:1.2-jennifer`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.PersistentFlags().BoolVarP(&g.quiet, "quiet", "q", false, "print only the result (no progress, no notes)")
	root.PersistentFlags().StringVar(&g.cacheDir, "cache-dir", "", "where downloaded agents and built agent layers are cached (default $XDG_CACHE_HOME/jbuild or ~/.cache/jbuild)")
	root.PersistentFlags().StringVar(&g.agentMaxSize, "agent-max-size", "2GiB", "refuse an agent archive or image that expands past this size (zip and gzip bombs); bytes, or with a KiB/MiB/GiB suffix")
	root.PersistentFlags().Var(decimalInt{p: &g.agentMaxEntries, min: 1, max: 1 << 30}, "agent-max-entries", "refuse an agent archive, folder or image with more files and folders than this (default 100000; real agents have a few thousand)")
	g.stores.register(root.PersistentFlags())
	root.SetFlagErrorFunc(flagError)
	root.SetHelpCommand(newHelpCmd())
	root.PersistentPreRunE = checkRequired
	root.AddCommand(newWrapCmd(g), newPlanCmd(g), newUnwrapCmd(g), newVerifyCmd(g), newK8sCmd(g), newLintCmd(g), newAgentCmd(g), newProfilesCmd(g))
	conventions(root)
	// conventions made the root runnable (its help, or an unknown
	// command's error): its usage line stays "jbuild [command]".
	root.DisableFlagsInUseLine = true
	return root, g
}

// exactArgs is cobra.ExactArgs with a usage error (exit code 2) that says
// what was expected.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s takes %s (got %d arguments); see `%s --help`", c.CommandPath(), what, len(args), c.CommandPath())}
		}
		return nil
	}
}
