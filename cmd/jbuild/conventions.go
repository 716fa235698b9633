package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// One set of conventions for every command: a wrong command line exits 2
// and says what was meant (an unknown command or flag gets cobra's
// suggestions), required flags are marked as such (in --help and the
// generated reference) and refused with exit code 2.

// conventions applies them to c and every command under it.
func conventions(c *cobra.Command) {
	if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		// A command that only groups others: an unknown subcommand is a
		// usage error with cobra's suggestions (cobra itself exits 1 for
		// the root and prints help for the others); alone it prints its
		// help.
		c.Args = unknownSubcommand
		c.RunE = func(c *cobra.Command, args []string) error { return c.Help() }
	}
	for _, sub := range c.Commands() {
		conventions(sub)
	}
}

func unknownSubcommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2 // cobra's default, set only on its own path
	}
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + quoteList(s) + "?"
	}
	return usageError{fmt.Errorf("%s (see `%s --help`)", msg, c.CommandPath())}
}

// flagError is the root's FlagErrorFunc: exit code 2, the command's help
// named, and for an unknown flag the flags of the command it is closest to.
func flagError(c *cobra.Command, err error) error {
	// "jbuild wrpa IMAGE --agent X": the command is what is wrong, not
	// its flags (which a group command like the root does not have).
	if c.HasSubCommands() && len(c.Flags().Args()) > 0 {
		if uerr := unknownSubcommand(c, c.Flags().Args()); uerr != nil {
			return uerr
		}
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		// "jbuild --agent X": a flag of a subcommand given without it.
		if cmds := commandsWithFlag(c, name, true); len(cmds) > 0 {
			msg += "; it is a flag of " + strings.Join(cmds, ", ")
		} else if s := suggestFlags(c, name); len(s) > 0 {
			msg += "; did you mean " + quoteList(s) + "?"
		} else if cmds := commandsWithFlag(c, name, false); len(cmds) > 0 {
			msg += "; did you mean a flag of " + strings.Join(cmds, ", ") + "?"
		}
	}
	return usageError{fmt.Errorf("%s (see `%s --help`)", msg, c.CommandPath())}
}

// suggestFlags are the visible flags of c within cobra's suggestion
// distance of name (2 edits), or that start with it.
func suggestFlags(c *cobra.Command, name string) []string {
	var out []string
	seen := map[string]bool{}
	visit := func(f *pflag.Flag) {
		if f.Hidden || seen[f.Name] {
			return
		}
		seen[f.Name] = true
		max := c.SuggestionsMinimumDistance
		if max <= 0 {
			max = 2 // cobra's default for commands
		}
		if levenshtein.Distance(strings.ToLower(name), f.Name, nil) <= max || (len(name) > 1 && strings.HasPrefix(f.Name, name)) {
			out = append(out, "--"+f.Name)
		}
	}
	c.LocalFlags().VisitAll(visit)
	c.InheritedFlags().VisitAll(visit)
	sort.Strings(out)
	return out
}

// commandsWithFlag are the subcommands of c with the flag name (exact),
// or with one within suggestion distance of it ("jbuild wrap").
func commandsWithFlag(c *cobra.Command, name string, exact bool) []string {
	var out []string
	for _, sub := range c.Commands() {
		if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
			continue
		}
		if f := sub.LocalFlags().Lookup(name); exact && f != nil && !f.Hidden || !exact && len(suggestFlags(sub, name)) > 0 {
			out = append(out, sub.CommandPath())
		}
		out = append(out, commandsWithFlag(sub, name, exact)...)
	}
	return out
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, " or ")
}

// requireFlags marks flags required: cobra's annotation (shown in --help
// as "(required)" and in the generated reference), and checkRequired
// refuses a command line without them with exit code 2.
func requireFlags(c *cobra.Command, names ...string) {
	for _, n := range names {
		f := c.Flags().Lookup(n)
		if f == nil {
			panic("requireFlags: no flag --" + n)
		}
		f.Usage += " (required)"
		if err := c.MarkFlagRequired(n); err != nil {
			panic(err)
		}
	}
}

// checkRequired is the root's PersistentPreRunE: cobra checks required
// flags too, but after this and with exit code 1.
func checkRequired(c *cobra.Command, _ []string) error {
	var missing []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if v, ok := f.Annotations[cobra.BashCompOneRequiredFlag]; ok && len(v) > 0 && v[0] == "true" && !f.Changed {
			missing = append(missing, "--"+f.Name)
		}
	})
	if len(missing) == 0 {
		return nil
	}
	f := c.Flags().Lookup(strings.TrimPrefix(missing[0], "--"))
	_, usage := pflag.UnquoteUsage(f) // as --help shows it, value name unquoted
	return usageError{fmt.Errorf("%s is required: %s (see `%s --help`)", strings.Join(missing, " and "), strings.TrimSuffix(usage, " (required)"), c.CommandPath())}
}
