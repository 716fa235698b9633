package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/verify"
	"github.com/jbuild-dev/jbuild/internal/wrap"
)

// errVerifyFailed makes the exit code 1 after the report is printed.
var errVerifyFailed = fmt.Errorf("verification failed")

func newVerifyCmd(g *globalFlags) *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "verify IMAGE",
		Short: "Check that an image is a sound monitored variant",
		Long: `verify checks, from the image alone: jbuild's labels; the agent files present and
readable by the image's user; the agent's writable directories writable by that user; agent
files root-owned, not writable by others, never setuid; the environment the profile sets; and,
when the base image can be found, that entrypoint, cmd, user, workdir, exposed ports, labels
and healthcheck are the base's. Every platform of an index is checked. The exit code is 1 when
a check fails.`,
		Example: `  jbuild verify registry.example.com/shop/api:1.2-jennifer
  jbuild verify oci:./layout:app-1.0-jennifer -o json`,
		Args: exactArgs(1, "one IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			stores := storeOptions(g)
			st, err := openStore(g, args[0], stores)
			if err != nil {
				return err
			}
			reports, err := verifyStatic(ctx, st, stores)
			if err != nil {
				return err
			}
			if err := printReports(cmd.OutOrStdout(), reports, output); err != nil {
				return err
			}
			for _, r := range reports {
				if !r.OK() {
					return errVerifyFailed
				}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return c
}

func verifyStatic(ctx context.Context, st transport.Store, stores transport.Options) ([]*verify.Report, error) {
	a, err := st.Get(ctx)
	if err != nil {
		return nil, err
	}
	base := func(ctx context.Context, name, digest string) (v1.Image, error) {
		h, err := v1.NewHash(digest)
		if err != nil {
			return nil, err
		}
		b, err := wrap.FindBase(ctx, st, name, h, stores)
		if err != nil {
			return nil, err
		}
		if b.Image == nil {
			return nil, fmt.Errorf("base %s is an index", digest)
		}
		return b.Image, nil
	}
	var imgs []v1.Image
	if a.Image != nil {
		imgs = append(imgs, a.Image)
	} else {
		im, err := a.Index.IndexManifest()
		if err != nil {
			return nil, err
		}
		for _, d := range im.Manifests {
			if d.Platform == nil || d.Platform.OS == "unknown" || !d.MediaType.IsImage() {
				continue
			}
			img, err := a.Index.Image(d.Digest)
			if err != nil {
				return nil, err
			}
			imgs = append(imgs, img)
		}
	}
	var out []*verify.Report
	for _, img := range imgs {
		r, err := verify.Image(ctx, st.Ref().String(), img, base)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func printReports(w io.Writer, reports []*verify.Report, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(reports)
	case "text", "":
		for _, r := range reports {
			r.WriteText(w)
		}
		return nil
	}
	return usageError{fmt.Errorf("-o %q: use text or json", format)}
}
