package main

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/jbuild-dev/jbuild/templates"
	"github.com/spf13/cobra"
)

func newAgentCmd(g *globalFlags) *cobra.Command {
	c := &cobra.Command{
		Use:   "agent",
		Short: "Work with agent bundles and agent images",
	}
	c.AddCommand(newAgentPushCmd(g))
	return c
}

func newAgentPushCmd(g *globalFlags) *cobra.Command {
	var profile string
	c := &cobra.Command{
		Use:   "push SOURCE [PLATFORM=SOURCE...] REF",
		Short: "Publish an agent folder, archive or download URL as an agent image",
		Long: `agent push turns an agent folder, .zip/.tar.gz or download URL into an agent image
that --agent (and the BuildKit frontend's JENNIFER_AGENT) accept. Its layer is
the same deterministic layer wrap adds, so registries store the agent once.

An agent with native parts has one variant per platform: give each as
PLATFORM=SOURCE and REF becomes a multi-platform index.`,
		Example: `  jbuild agent push ./agent.java registry.example.com/jennifer/agent:java-5.6.4
  jbuild agent push http://jennifer-view:7900/download/agent/java/latest registry.example.com/jennifer/agent:java
  jbuild agent push linux/amd64=agent.dotnet-x64.zip linux/arm64=agent.dotnet-arm64.zip \
      registry.example.com/jennifer/agent:dotnet-5.6.2`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usageError{fmt.Errorf("agent push takes SOURCE... REF (got %d arguments); see `jbuild agent push --help`", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			stores := storeOptions(g)
			specs, ref := args[:len(args)-1], args[len(args)-1]
			prof, err := loadProfile(profile)
			if err != nil {
				return err
			}
			var variants []wrap.PlatformBundle
			for _, spec := range specs {
				var plat *v1.Platform
				if p, s, ok := strings.Cut(spec, "="); ok && strings.HasPrefix(p, "linux/") {
					pp, err := v1.ParsePlatform(p)
					if err != nil {
						return usageError{fmt.Errorf("%q: %w", spec, err)}
					}
					plat, spec = pp, s
				} else if len(specs) > 1 {
					return usageError{fmt.Errorf("%q: with several sources, write each as PLATFORM=SOURCE", spec)}
				}
				src, err := openAgent(ctx, spec, prof, g, stores)
				if err != nil {
					return err
				}
				b, err := src.Bundle(ctx, plat)
				if err != nil {
					return err
				}
				if prof == nil {
					p, ok := templates.MatchBundle(b.Files)
					if !ok {
						return fmt.Errorf("agent %s matches no built-in profile: pass --profile NAME|FILE", spec)
					}
					prof = p
				}
				variants = append(variants, wrap.PlatformBundle{Platform: plat, Bundle: b})
			}
			layerOpts, err := layerOptions(g)
			if err != nil {
				return err
			}
			a, err := wrap.AgentImage(prof, variants, layerOpts)
			if err != nil {
				return err
			}
			dst, err := openStore(g, ref, stores)
			if err != nil {
				return err
			}
			if err := dst.Put(ctx, a); err != nil {
				return err
			}
			d, err := a.Digest()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s@%s\n", dst.Ref(), d)
			return nil
		},
	}
	c.Flags().StringVar(&profile, "profile", "", "agent profile (default: the built-in profile whose marker files the agent has)")
	return c
}
