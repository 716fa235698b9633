package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

var labels = map[string]string{
	sJbuildCold:   "jbuild wrap, %s base, new agent",
	sCrane:        "crane tar+append+mutate, %s base, new agent",
	sJbuildWarm:   "jbuild wrap, %s base, agent layer in registry",
	sSmallCold:    "jbuild wrap, %s base, new agent",
	sSmallWarm:    "jbuild wrap, %s base, agent layer in registry",
	sCI:           "jbuild wrap, CI build: %s base + a new app layer, USER app (a name), new agent",
	sCICrane:      "crane tar+append+mutate, the same CI build (%s base), new agent",
	sFirst:        "jbuild wrap, never-seen %s base (USER app, 4 RUN layers) + app layer, new agent",
	sFirstCrane:   "crane tar+append+mutate, the same never-seen base, new agent",
	sFloor:        "bare upload of a's agent layer (ggcr remote.WriteLayer, in process)",
	sFreshNew:     "jbuild wrap, %s base, new agent, its files just written (as a CI job unpacks it)",
	sFreshKnown:   "jbuild wrap, %s base, agent layer in registry, its files just written",
	sContainerd:   "jbuild wrap containerd:, the same %s image as a, new agent",
	sMany1:        "jbuild wrap -f, 1 image (CI base + own app layer), new agent",
	sDaemon:       "jbuild wrap docker-daemon:, the %s CI base (USER app), new agent",
	sDaemonDocker: "classic docker build (DOCKER_BUILDKIT=0) of FROM + COPY agent.java + ENV, same image",
	sManyN:        "jbuild wrap -f, %d images of one registry, new agent",
}

// order is the report order, each key with the group that makes it.
var order = []struct{ key, group string }{
	{sJbuildCold, ""}, {sCrane, gCore}, {sJbuildWarm, gCore}, {sSmallCold, gCore}, {sSmallWarm, gCore},
	{sCI, gCI}, {sCICrane, gCI},
	{sFirst, gFirst}, {sFirstCrane, gFirst},
	{sFloor, gRaise},
	{sFreshNew, gFresh}, {sFreshKnown, gFresh},
	{sContainerd, gContainerd},
	{sMany1, gMany}, {sManyN, gMany},
	{sDaemon, gDaemon}, {sDaemonDocker, gDaemon},
}

type target struct {
	name     string
	num, den string
	limit    float64 // 0: a figure without a goal
	group    string
}

var targets = []target{
	{"jbuild / crane (a/b)", sJbuildCold, sCrane, 0.5, gCore},
	{"500 MB / 5 MB base, new agent (a/d1)", sJbuildCold, sSmallCold, 1.2, gCore},
	{"500 MB / 5 MB base, agent in registry (c/d2)", sJbuildWarm, sSmallWarm, 1.2, gCore},
	{"CI build, USER by name: jbuild / crane (e1/e2)", sCI, sCICrane, 0.5, gCI},
	{"first wrap of a never-seen base: jbuild / crane (f1/f2)", sFirst, sFirstCrane, 1.0, gFirst},
	{"the raise: wrap, new agent / bare upload of its layer (a/u)", sJbuildCold, sFloor, 1.5, gRaise},
	{"agent files just written, new agent (n1/a)", sFreshNew, sJbuildCold, 0, gFresh},
	{"agent files just written, agent layer in registry (n2/c)", sFreshKnown, sJbuildWarm, 0, gFresh},
	{"many images: wrap -f N / wrap -f 1 (mN/m1)", sManyN, sMany1, 4, gMany},
	{"containerd: / registry wrap of the same image (k/a)", sContainerd, sJbuildCold, 0, gContainerd},
	{"docker-daemon: / classic docker build of the hand-written Dockerfile (w1/w2)", sDaemon, sDaemonDocker, 1.5, gDaemon},
}

func (b *bench) report(w io.Writer) {
	o := b.opts
	fmt.Fprintf(w, "\njbuild bench: %s on loopback %s, %d runs per scenario (median, min, max)\n", b.regName, b.reg, o.n)
	fmt.Fprintf(w, "base images: %d MB and %d MB (Java config, USER 1000:1000); agent: %d MB folder\n", o.bigMB, o.smallMB, o.agentMB)
	fmt.Fprintf(w, "CI build (e): a %d MB base (rootfs + 4 RUN layers, USER app) + a new %d MB layer per run (history: COPY ... /app/app.jar)\n\n", o.bigMB, o.appMB)

	if o.wants(gMany) {
		fmt.Fprintf(w, "many (m): %d images shop/svc-NN:1, each the CI base + its own %d MB app layer; wrap -f runs min(4, CPUs) at once: %d here\n", o.manyN, o.manyAppMB, min(4, runtime.GOMAXPROCS(0)))
	}
	if b.ctrd.server != "" {
		fmt.Fprintf(w, "daemons: %s (testenv, overlay2/overlayfs)\n", b.ctrd.server)
	}
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if o.needBig() || o.wants(gCI) || o.wants(gFirst) || o.wants(gMany) || o.wants(gDaemon) {
		fmt.Fprintln(tw, "\tscenario\tmedian\tmin\tmax\tclient CPU\tmachine busy\t")
	}
	var notes []string // why a figure is n/a
	for _, e := range order {
		k := e.key
		if !b.shows(e.group, k) {
			continue
		}
		size := fmt.Sprintf("%d MB", o.bigMB)
		if k == sSmallCold || k == sSmallWarm {
			size = fmt.Sprintf("%d MB", o.smallMB)
		}
		if k == sFirst {
			size = fmt.Sprintf("%d MB", o.firstMB)
		}
		label := fmt.Sprintf(labels[k], size)
		if k == sManyN {
			label = fmt.Sprintf(labels[k], o.manyN)
		} else if k == sFloor || k == sMany1 || k == sFirstCrane || k == sDaemonDocker {
			label = labels[k]
		}
		ds := b.times[k]
		if len(ds) == 0 {
			if k == sContainerd && b.ctrd.skipped != "" {
				notes = append(notes, fmt.Sprintf("%s n/a: %s", k, firstLine(b.ctrd.skipped)))
			}
			if k == sDaemon && b.dkr.skipped != "" {
				notes = append(notes, fmt.Sprintf("%s n/a: %s", k, firstLine(b.dkr.skipped)))
			}
			fmt.Fprintf(tw, "%s\t%s\tn/a\t\t\t\t\t\n", k, label)
			continue
		}
		cpu := "—"
		if c := b.cpu[k]; len(c) > 0 {
			cpu = secs(median(c))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", k, label,
			secs(median(ds)), secs(slices.Min(ds)), secs(slices.Max(ds)), cpu, b.machine[k].share())
		if k == sCrane {
			for _, s := range craneSteps {
				fmt.Fprintf(tw, "\t  %s\t%s\t\t\t\t\n", s, secs(median(b.steps[s])))
			}
		}
		if k == sFloor && b.raise.size > 0 {
			fmt.Fprintf(tw, "\t  %.1f MB at %.0f MB/s\t\t\t\t\t\n", float64(b.raise.size)/(1<<20), float64(b.raise.size)/(1<<20)/median(ds).Seconds())
		}
	}
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if o.needBig() || o.wants(gCI) || o.wants(gFirst) || o.wants(gMany) || o.wants(gDaemon) {
		fmt.Fprintln(tw, "target\tratio\tlimit\tresult\t")
	}
	for _, t := range targets {
		if !b.shows(t.group, t.num) {
			continue
		}
		limit := "—"
		if t.limit > 0 {
			limit = fmt.Sprintf("<= %.2fx", t.limit)
		}
		num, den := b.times[t.num], b.times[t.den]
		if len(num) == 0 || len(den) == 0 {
			fmt.Fprintf(tw, "%s\tn/a\t%s\tn/a\t\n", t.name, limit)
			continue
		}
		r := float64(median(num)) / float64(median(den))
		result := "—"
		if t.limit > 0 {
			result = "PASS"
			if r > t.limit {
				result = "MISS"
			}
		}
		fmt.Fprintf(tw, "%s\t%.2fx\t%s\t%s\t\n", t.name, r, limit, result)
	}
	if o.wants(gContainerd) && len(b.times[sContainerd]) > 0 {
		result := "PASS"
		if !b.onlyNewBlobs() {
			result = "MISS"
		}
		fmt.Fprintf(tw, "containerd: only new blobs move (most new to its content store in a run: %d blobs, %.1f MB)\t\t<= 6, %d MB\t%s\t\n",
			b.ctrd.maxBlobs, float64(b.ctrd.maxBytes)/(1<<20), o.agentMB+2, result)
	}
	tw.Flush()

	if o.wants(gMemory) && b.haveJbuild {
		fmt.Fprintf(w, "\nmemory: one wrap of a %d MB image (USER app by name, in the bottom layer), cold cache, peak RSS of jbuild (/usr/bin/time)\n", max(1, o.memMB/256)*256)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "store\tpeak RSS\twall\tlimit\tresult\t")
		if len(b.mem) == 0 {
			fmt.Fprintf(tw, "all\tn/a\t\t<= 100 MB\tn/a\t\n")
		}
		var notes []string
		for _, m := range b.mem {
			if m.err != "" {
				fmt.Fprintf(tw, "%s\tn/a\t\t<= 100 MB\tn/a\t\n", m.store)
				notes = append(notes, fmt.Sprintf("%s n/a: %s", m.store, firstLine(m.err)))
				continue
			}
			result := "PASS"
			if m.rss > memLimit {
				result = "MISS"
			}
			fmt.Fprintf(tw, "%s\t%.1f MB\t%s\t<= 100 MB\t%s\t\n", m.store, float64(m.rss)/(1<<20), secs(m.d), result)
		}
		tw.Flush()
		for _, n := range notes {
			fmt.Fprintln(w, n)
		}
	}
}

// shows says whether the report has a line for key of group.
func (b *bench) shows(group, key string) bool {
	o := b.opts
	if group == "" { // a
		return o.needBig()
	}
	return o.wants(group)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
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
