package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

var labels = map[string]string{
	sJbuildCold: "jbuild wrap, %s base, new agent",
	sCrane:      "crane tar+append+mutate, %s base, new agent",
	sJbuildWarm: "jbuild wrap, %s base, agent layer in registry",
	sSmallCold:  "jbuild wrap, %s base, new agent",
	sSmallWarm:  "jbuild wrap, %s base, agent layer in registry",
	sCI:         "jbuild wrap, CI build: %s base + a new app layer, USER app (a name), new agent",
	sCICrane:    "crane tar+append+mutate, the same CI build (%s base), new agent",
}

type target struct {
	name     string
	num, den string
	limit    float64
}

var targets = []target{
	{"jbuild / crane (a/b)", sJbuildCold, sCrane, 0.5},
	{"500 MB / 5 MB base, new agent (a/d1)", sJbuildCold, sSmallCold, 1.2},
	{"500 MB / 5 MB base, agent in registry (c/d2)", sJbuildWarm, sSmallWarm, 1.2},
	{"CI build, USER by name: jbuild / crane (e1/e2)", sCI, sCICrane, 0.5},
}

func (b *bench) report(w io.Writer) {
	o := b.opts
	fmt.Fprintf(w, "\njbuild bench: %s on loopback %s, %d runs per scenario (median, min, max)\n", b.regName, b.reg, o.n)
	fmt.Fprintf(w, "base images: %d MB and %d MB (Java config, USER 1000:1000); agent: %d MB folder\n", o.bigMB, o.smallMB, o.agentMB)
	fmt.Fprintf(w, "CI build (e): a %d MB base (rootfs + 4 RUN layers, USER app) + a new %d MB layer per run (history: COPY ... /app/app.jar)\n\n", o.bigMB, o.appMB)

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tscenario\tmedian\tmin\tmax\t")
	for _, k := range []string{sJbuildCold, sCrane, sJbuildWarm, sSmallCold, sSmallWarm, sCI, sCICrane} {
		size := fmt.Sprintf("%d MB", o.bigMB)
		if k == sSmallCold || k == sSmallWarm {
			size = fmt.Sprintf("%d MB", o.smallMB)
		}
		ds := b.times[k]
		if len(ds) == 0 {
			fmt.Fprintf(tw, "%s\t%s\tn/a\t\t\t\n", k, fmt.Sprintf(labels[k], size))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", k, fmt.Sprintf(labels[k], size),
			secs(median(ds)), secs(slices.Min(ds)), secs(slices.Max(ds)))
		if k == sCrane {
			for _, s := range craneSteps {
				fmt.Fprintf(tw, "\t  %s\t%s\t\t\t\n", s, secs(median(b.steps[s])))
			}
		}
	}
	tw.Flush()

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "target\tratio\tlimit\tresult\t")
	for _, t := range targets {
		num, den := b.times[t.num], b.times[t.den]
		if len(num) == 0 || len(den) == 0 {
			fmt.Fprintf(tw, "%s\tn/a\t<= %.2fx\tn/a\t\n", t.name, t.limit)
			continue
		}
		r := float64(median(num)) / float64(median(den))
		result := "PASS"
		if r > t.limit {
			result = "MISS"
		}
		fmt.Fprintf(tw, "%s\t%.2fx\t<= %.2fx\t%s\t\n", t.name, r, t.limit, result)
	}
	tw.Flush()
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func secs(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }
