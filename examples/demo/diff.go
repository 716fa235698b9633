package main

import (
	"archive/tar"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// printDiff prints the config fields that matter for a monitored image,
// unchanged ones with two spaces, changes as "-" (before) and "+" (after)
// lines, then the files of every layer the wrap added.
func printDiff(w io.Writer, before, after *image) error {
	b, a := before.config.Config, after.config.Config
	fmt.Fprintf(w, "  manifest    %s\n           -> %s\n", before.digest, after.digest)
	fmt.Fprintf(w, "  layers      %d -> %d\n", len(before.layers), len(after.layers))
	field(w, "user", b.User, a.User)
	field(w, "entrypoint", fmt.Sprint(b.Entrypoint), fmt.Sprint(a.Entrypoint))
	field(w, "cmd", fmt.Sprint(b.Cmd), fmt.Sprint(a.Cmd))
	field(w, "workdir", b.WorkingDir, a.WorkingDir)

	fmt.Fprintln(w, "  env:")
	keyed(w, envMap(b.Env), envMap(a.Env), envOrder(b.Env, a.Env))
	fmt.Fprintln(w, "  labels:")
	keyed(w, b.Labels, a.Labels, sortedKeys(b.Labels, a.Labels))

	for _, l := range addedLayers(before, after) {
		d, _ := l.Digest()
		fmt.Fprintf(w, "\n  added layer %s (%s):\n", d, layerSize(l))
		if err := listLayer(w, l); err != nil {
			return fmt.Errorf("listing layer %s: %w", d, err)
		}
	}
	return nil
}

func field(w io.Writer, name, before, after string) {
	if before == after {
		fmt.Fprintf(w, "  %-11s %s\n", name, before)
		return
	}
	fmt.Fprintf(w, "- %-11s %s\n+ %-11s %s\n", name, before, name, after)
}

// keyed prints KEY=VALUE entries in order, marking removed, added and
// changed ones.
func keyed(w io.Writer, before, after map[string]string, order []string) {
	for _, k := range order {
		bv, inB := before[k]
		av, inA := after[k]
		switch {
		case inB && inA && bv == av:
			fmt.Fprintf(w, "      %s=%s\n", k, bv)
		case inB && inA:
			fmt.Fprintf(w, "-     %s=%s\n+     %s=%s\n", k, bv, k, av)
		case inB:
			fmt.Fprintf(w, "-     %s=%s\n", k, bv)
		default:
			fmt.Fprintf(w, "+     %s=%s\n", k, av)
		}
	}
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// envOrder keeps the image's own order, then the new variables.
func envOrder(before, after []string) []string {
	var order []string
	seen := map[string]bool{}
	for _, kv := range append(slices.Clone(before), after...) {
		k, _, _ := strings.Cut(kv, "=")
		if !seen[k] {
			seen[k] = true
			order = append(order, k)
		}
	}
	return order
}

func sortedKeys(ms ...map[string]string) []string {
	set := map[string]bool{}
	for _, m := range ms {
		for k := range m {
			set[k] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// listLayer prints each entry of a layer as ls -l would: mode, uid:gid,
// size, path (and link target).
func listLayer(w io.Writer, l v1.Layer) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', tabwriter.AlignRight)
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		name := "/" + strings.TrimPrefix(h.Name, "/")
		if h.Linkname != "" {
			name += " -> " + h.Linkname
		}
		fmt.Fprintf(tw, "    %s\t %d:%d\t %d\t  %s\n", h.FileInfo().Mode().String(), h.Uid, h.Gid, h.Size, name)
	}
	return tw.Flush()
}
