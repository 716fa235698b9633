package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// Targets of the frontend section (printed, not enforced).
const (
	feWarmLimit = 1.10 // warm jbuild / warm BuildKit # syntax
)

func (b *feBench) report(w io.Writer) {
	mb := func(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }
	fmt.Fprintf(w, "\njbuild bench, frontends: one buildkitd (pinned module, OCI worker), loopback registry %s, %d runs per build (median, min, max)\n", b.reg, b.opts.n)
	fmt.Fprintf(w, "sample: FROM javabase (%d layers) + COPY app.jar (%d KB) + ENV JAVA_TOOL_OPTIONS; build args %s, %s\n",
		b.baseLayers, b.opts.appKB, "JENNIFER_AGENT", "JENNIFER_SERVER_ADDRESS")
	fmt.Fprintf(w, "export: image pushed to the registry (all three); cold = after Prune(all), warm = the same build again\n")
	fmt.Fprintf(w, "frontend images (compressed): jbuild %s, BuildKit dockerfile-frontend %s; agent layer %s\n\n",
		mb(b.feImageSizes[wayJbuild]), mb(b.feImageSizes[wayBuildkit]), mb(b.agentLayer))

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tbuild\tcache\tmedian\tmin\tmax\t")
	row := func(key, label, cache string, ds []time.Duration) {
		if len(ds) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\tn/a\t\t\t\n", key, label, cache)
			return
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", key, label, cache, secs(median(ds)), secs(slices.Min(ds)), secs(slices.Max(ds)))
	}
	for _, way := range b.ways {
		row(way.key, way.label, "cold", b.cold[way.key])
		row(way.key, way.label, "warm", b.warm[way.key])
	}
	row(keyAgent, "agent layer copy: the agent image alone, pulled and unpacked", "cold", b.cold[keyAgent])
	tw.Flush()

	med := func(m map[string][]time.Duration, k string) time.Duration { return median(m[k]) }
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tvalue\tlimit\tresult\t")
	wj, wb := med(b.warm, wayJbuild), med(b.warm, wayBuildkit)
	r := float64(wj) / float64(wb)
	fmt.Fprintf(tw, "warm jbuild / warm BuildKit # syntax (f1/f2)\t%.2fx\t<= %.2fx\t%s\t\n", r, feWarmLimit, passMiss(r <= feWarmLimit))
	cj, cb, ca := med(b.cold, wayJbuild), med(b.cold, wayBuildkit), med(b.cold, keyAgent)
	fmt.Fprintf(tw, "cold jbuild - cold BuildKit # syntax (f1-f2; ratio %.2fx)\t%s\t<= %s (f4, agent layer %s)\t%s\t\n",
		float64(cj)/float64(cb), signed(cj-cb), secs(ca), mb(b.agentLayer), passMiss(cj <= cb+ca))
	tw.Flush()

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "reference\tcold\twarm\t")
	bc, bw := med(b.cold, wayBuiltin), med(b.warm, wayBuiltin)
	fmt.Fprintf(tw, "any # syntax frontend over built-in: BuildKit's (f2-f3)\t%s\t%s\t\n", signed(cb-bc), signed(wb-bw))
	fmt.Fprintf(tw, "jbuild over built-in (f1-f3)\t%s\t%s\t\n", signed(cj-bc), signed(wj-bw))
	fmt.Fprintf(tw, "jbuild / built-in (f1/f3)\t%.2fx\t%.2fx\t\n", float64(cj)/float64(bc), float64(wj)/float64(bw))
	tw.Flush()
}

func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func signed(d time.Duration) string { return fmt.Sprintf("%+.3fs", d.Seconds()) }
