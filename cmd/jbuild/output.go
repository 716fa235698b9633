package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
)

// printPlan writes a plan result as text (for people) or JSON (for tools).
func printPlan(w io.Writer, res *wrap.Result, format string) error {
	switch format {
	case "json":
		return writeJSON(w, res)
	case "text", "":
		fmt.Fprintf(w, "Source:  %s (%s)\n", res.Source, res.SourceDigest)
		if res.Upgrade {
			fmt.Fprintf(w, "Upgrade: replaces the agent of a jbuild output; base %s@%s\n", res.Base, res.BaseDigest)
		}
		for _, d := range res.Dropped {
			fmt.Fprintf(w, "Left out: %s\n", d)
		}
		for _, p := range res.Platforms {
			fmt.Fprintf(w, "\n=== %s\n", p.Platform.String())
			if err := p.Plan.WriteText(w); err != nil {
				return err
			}
		}
		return nil
	}
	return usageError{fmt.Errorf("-o %q: use text or json", format)}
}

// printWrapResult prints the written reference with its digest on stdout
// (so scripts can pin it) and a summary on stderr.
func printWrapResult(stdout, stderr io.Writer, res *wrap.Result, quiet bool) error {
	if !quiet {
		for _, p := range res.Platforms {
			pl := p.Plan
			fmt.Fprintf(stderr, "%s: %s agent %s (%s) at %s, layer %s\n", p.Platform.String(), pl.Profile, orUnknown(pl.Agent.Version), pl.Runtime.Value, pl.InstallDir, p.Layer)
			for _, w := range pl.Warnings {
				fmt.Fprintf(stderr, "warning: %s\n", w)
			}
		}
		if res.Unchanged {
			fmt.Fprintf(stderr, "%s is already up to date; nothing written\n", res.Target)
		}
	}
	fmt.Fprintln(stdout, transport.Printed(res.Target, res.TargetDigest))
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "(version unknown)"
	}
	return s
}

// writeJSON is -o json of every command: indented, one value.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
