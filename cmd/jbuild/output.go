package main

import (
	"encoding/json"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"sigs.k8s.io/yaml"

	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
)

// checkFormat refuses an unknown -o before anything is read or written.
func checkFormat(format string) error {
	switch format {
	case "text", "", "json", "yaml":
		return nil
	}
	return usageError{fmt.Errorf("-o %q: use text, json or yaml", format)}
}

// printPlan writes a plan result as text (for people) or JSON/YAML (for
// tools).
func printPlan(w io.Writer, res *wrap.Result, format string) error {
	switch format {
	case "json", "yaml":
		return writeDoc(w, res, format)
	case "text", "":
		fmt.Fprintf(w, "Source:  %s (%s)\n", res.Source, res.SourceDigest)
		if res.Target != "" {
			fmt.Fprintf(w, "Target:  %s (would be written; nothing is written by a plan)\n", res.Target)
		}
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
	return checkFormat(format)
}

// printWrapResult prints the written reference with its digest on stdout
// (so scripts can pin it) and a summary on stderr; with -o json or yaml
// stdout gets a result document instead (wrapDoc).
func printWrapResult(stdout, stderr io.Writer, res *wrap.Result, quiet bool, format string) error {
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
	if format == "json" || format == "yaml" {
		return writeDoc(stdout, newWrapDoc(res), format)
	}
	fmt.Fprintln(stdout, transport.Printed(res.Target, res.TargetDigest))
	return nil
}

// wrapDoc is `wrap -o json|yaml`: what a CI step needs to pin and record
// the image it wrote.
type wrapDoc struct {
	// Target as given (or derived), Reference as a tool takes it (for a
	// docker-daemon: target the name Docker knows), Digest what was
	// written.
	Target    string `json:"target"`
	Reference string `json:"reference"`
	Digest    string `json:"digest"`
	Source    string `json:"source"`
	// SourceDigest is the digest read; Base the image the agent was added
	// to (the original for an agent upgrade).
	SourceDigest string `json:"sourceDigest"`
	Base         string `json:"base,omitempty"`
	Upgrade      bool   `json:"upgrade,omitempty"`
	// Unchanged: the target already held exactly this image.
	Unchanged bool              `json:"unchanged,omitempty"`
	Platforms []wrapDocPlatform `json:"platforms"`
	// LayersAdded are the distinct layers added over all platforms (the
	// agent layer is the same for every platform with the same agent).
	LayersAdded []string `json:"layersAdded"`
	Dropped     []string `json:"dropped,omitempty"`
}

type wrapDocPlatform struct {
	Platform      string   `json:"platform"`
	Digest        string   `json:"digest"`
	Profile       string   `json:"profile"`
	Runtime       string   `json:"runtime"`
	Agent         string   `json:"agent,omitempty"`
	AgentVersion  string   `json:"agentVersion,omitempty"`
	InstallDir    string   `json:"installDir"`
	AgentLayer    string   `json:"agentLayer"`
	SettingsLayer string   `json:"settingsLayer,omitempty"`
	Warnings      []string `json:"warnings,omitempty"`
}

func newWrapDoc(res *wrap.Result) wrapDoc {
	d := wrapDoc{
		Target: res.Target, Reference: transport.Printed(res.Target, res.TargetDigest), Digest: res.TargetDigest,
		Source: res.Source, SourceDigest: res.SourceDigest, Upgrade: res.Upgrade, Unchanged: res.Unchanged,
		Dropped: res.Dropped, Platforms: []wrapDocPlatform{}, LayersAdded: []string{},
	}
	if res.Base != res.Source {
		d.Base = res.Base
	}
	seen := map[string]bool{}
	add := func(h v1.Hash) string {
		if h.Hex == "" {
			return ""
		}
		if !seen[h.String()] {
			seen[h.String()] = true
			d.LayersAdded = append(d.LayersAdded, h.String())
		}
		return h.String()
	}
	for _, p := range res.Platforms {
		pl := p.Plan
		dp := wrapDocPlatform{
			Platform: p.Platform.String(), Digest: p.Digest.String(), InstallDir: pl.InstallDir,
			AgentLayer: add(p.Layer), Warnings: pl.Warnings,
		}
		if p.SettingsLayer != nil {
			dp.SettingsLayer = add(*p.SettingsLayer)
		}
		if p.Digest.Hex == "" {
			dp.Digest = ""
		}
		dp.Profile, dp.Runtime = pl.Profile, string(pl.Runtime.Value)
		dp.Agent, dp.AgentVersion = pl.Agent.Name, pl.Agent.Version
		d.Platforms = append(d.Platforms, dp)
	}
	return d
}

func orUnknown(s string) string {
	if s == "" {
		return "(version unknown)"
	}
	return s
}

// writeDoc writes v as -o json (indented) or -o yaml (the same document:
// converted from its JSON, so field names and encodings are the same).
func writeDoc(w io.Writer, v any, format string) error {
	if format != "yaml" {
		return writeJSON(w, v)
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// writeJSON is -o json of every command: indented, one value.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
