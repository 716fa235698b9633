package main

// Where a frontend build's time goes: the vertices BuildKit reports
// (client.SolveStatus, the same records `--progress=rawjson` prints), each
// with its start relative to the build's start and its duration, collected
// for every warm build and printed (medians per vertex name) with -profile.
// Time in no vertex is the client, the session, starting a `# syntax=`
// frontend and the frontend's own work between its solves.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

// vspan is one vertex of one build.
type vspan struct {
	name       string
	off, dur   time.Duration // start after the build's start; Completed - Started
	cached     bool
	incomplete bool // no Started or Completed seen
}

// buildProfile is the vertices of one build, in order of their start.
type buildProfile struct {
	total time.Duration
	spans []vspan
}

// vertexLog gathers SolveStatus records of one build.
type vertexLog struct {
	mu sync.Mutex
	vs map[digest.Digest]*client.Vertex
	at []digest.Digest // first-seen order
}

func (l *vertexLog) add(ss *client.SolveStatus) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.vs == nil {
		l.vs = map[digest.Digest]*client.Vertex{}
	}
	for _, v := range ss.Vertexes {
		old, ok := l.vs[v.Digest]
		if !ok {
			l.at = append(l.at, v.Digest)
			c := *v
			l.vs[v.Digest] = &c
			continue
		}
		// Updates carry the latest state; keep the earliest start.
		if v.Started != nil && (old.Started == nil || v.Started.Before(*old.Started)) {
			old.Started = v.Started
		}
		if v.Completed != nil {
			old.Completed = v.Completed
		}
		old.Cached = old.Cached || v.Cached
		if v.Name != "" {
			old.Name = v.Name
		}
	}
}

// profile is the build's vertices relative to start; total is its wall time.
func (l *vertexLog) profile(start time.Time, total time.Duration) buildProfile {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := buildProfile{total: total}
	for _, d := range l.at {
		v := l.vs[d]
		s := vspan{name: v.Name, cached: v.Cached}
		if v.Started == nil || v.Completed == nil {
			s.incomplete = true
		} else {
			s.off, s.dur = v.Started.Sub(start), v.Completed.Sub(*v.Started)
		}
		p.spans = append(p.spans, s)
	}
	slices.SortStableFunc(p.spans, func(a, b vspan) int { return int(a.off - b.off) })
	return p
}

// collect returns a status channel for a Solve that records into l.
func (l *vertexLog) collect() chan *client.SolveStatus {
	ch := make(chan *client.SolveStatus)
	go func() {
		for ss := range ch {
			l.add(ss)
		}
	}()
	return ch
}

// parseRawJSON reads the SolveStatus records of `--progress=rawjson`
// output (one JSON object a line; other lines are skipped) into l.
func (l *vertexLog) parseRawJSON(out []byte) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var ss client.SolveStatus
		if json.Unmarshal(line, &ss) == nil {
			l.add(&ss)
		}
	}
}

// names is every vertex name of l ("" if none), for checks on what ran.
func (l *vertexLog) names() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var s []string
	for _, d := range l.at {
		s = append(s, l.vs[d].Name)
	}
	return strings.Join(s, "\n")
}

// printProfiles prints, for each way in keys with profiles, its vertices
// by name (median start and duration over the builds where the vertex
// ran, how many of them cached) and the median build time.
func printProfiles(w io.Writer, title string, keys []string, labels map[string]string, profs map[string][]buildProfile) {
	fmt.Fprintf(w, "\nprofile, %s: vertices of the warm builds (median start after the build's start, median duration; cached: in how many builds)\n", title)
	for _, k := range keys {
		ps := profs[k]
		if len(ps) == 0 {
			continue
		}
		var totals []time.Duration
		type agg struct {
			offs, durs []time.Duration
			cached, n  int
		}
		byName := map[string]*agg{}
		var order []string
		for _, p := range ps {
			totals = append(totals, p.total)
			for _, s := range p.spans {
				a, ok := byName[s.name]
				if !ok {
					a = &agg{}
					byName[s.name] = a
					order = append(order, s.name)
				}
				a.n++
				if s.cached {
					a.cached++
				}
				if !s.incomplete {
					a.offs = append(a.offs, s.off)
					a.durs = append(a.durs, s.dur)
				}
			}
		}
		slices.SortStableFunc(order, func(x, y string) int {
			return int(median(byName[x].offs) - median(byName[y].offs))
		})
		fmt.Fprintf(w, "\n%s %s: %d warm builds, median %s\n", k, labels[k], len(ps), secs(median(totals)))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  start\tduration\tcached\tvertex\t")
		for _, name := range order {
			a := byName[name]
			fmt.Fprintf(tw, "  %s\t%s\t%d/%d\t%s\t\n", secs(median(a.offs)), secs(median(a.durs)), a.cached, a.n, shorten(name, 110))
		}
		tw.Flush()
	}
}

func shorten(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
