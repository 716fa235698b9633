package progress

import (
	"fmt"
	"log"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/logs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Push is the step of writing an image to a registry.
type Push struct {
	s      *Step
	target string
	sizes  func() map[string]int64

	mu                       sync.Mutex
	total, complete, skipped int64
	// uploaded are blobs already shown as uploaded: jbuild streams the
	// agent layer while building it, and ggcr then finds it there.
	uploaded map[string]bool
	ch       chan v1.Update
	drained  chan struct{}
}

// ggcr logs each blob it uploads, mounts or finds, and each manifest it
// writes, to logs.Progress (one global logger): the display's pushes read
// them from there. A blob line names no repository: with several pushes
// at once (wrap -f) blob lines are left out, their byte counts stay.
var (
	logMu  sync.Mutex
	active = map[*Push]bool{}
)

// Push starts the step of writing target. sizes gives the size of blobs
// the registry may mount or already hold (the source's layers), so their
// bytes are not counted as uploaded; a blob of unknown size is counted,
// not sized. It is called once, when the first such blob is shown: by
// then the wrap has read the source, so the sizes cost nothing, where
// reading them before the wrap would hold its start for a round trip to
// the registry. Pass Updates to remote.WithProgress; call Finish when the
// write has returned.
func (d *Display) Push(target string, sizes func() map[string]int64) *Push {
	if d == nil {
		return nil
	}
	if sizes == nil {
		sizes = func() map[string]int64 { return nil }
	}
	p := &Push{s: d.Step("pushing " + target), target: target, sizes: sync.OnceValue(sizes), ch: make(chan v1.Update, 64), drained: make(chan struct{})}
	logMu.Lock()
	active[p] = true
	logs.Progress = log.New(ggcrLines{}, "", 0)
	logMu.Unlock()
	go func() {
		defer close(p.drained)
		for u := range p.ch {
			if u.Error != nil {
				continue
			}
			p.mu.Lock()
			p.total, p.complete = u.Total, u.Complete
			p.mu.Unlock()
			p.show(false)
		}
	}()
	return p
}

// Updates is the byte counter channel for remote.WithProgress (nil for a
// nil Push). ggcr closes it when its write ends.
func (p *Push) Updates() chan<- v1.Update {
	if p == nil {
		return nil
	}
	return p.ch
}

// Finish ends the step. ggcr closes the channel when a write that used it
// ends; one that never got so far (a failed or up-to-date wrap) leaves it
// open, hence the short wait instead of closing a channel ggcr owns.
func (p *Push) Finish(err error) {
	if p == nil {
		return
	}
	select {
	case <-p.drained:
	case <-time.After(500 * time.Millisecond):
	}
	logMu.Lock()
	delete(active, p)
	logMu.Unlock()
	p.show(true)
	p.s.Done(err)
}

// show reports the byte counter: bytes uploaded, ggcr's count less what
// was mounted or found (ggcr counts those as complete at once).
func (p *Push) show(done bool) {
	p.mu.Lock()
	up, total := p.complete-p.skipped, p.total-p.skipped
	p.mu.Unlock()
	if up < 0 {
		up = 0
	}
	if total < up {
		total = up
	}
	p.s.status("bytes uploaded", "", up, total, done)
}

// blob reports one blob as its own finished status line, so uploaded,
// mounted and found blobs read apart: "mounted sha256:0123abcd (1.2 MiB,
// not uploaded)".
func (p *Push) blob(what, dg, note string) {
	p.s.status(fmt.Sprintf("%s %s%s", what, short(dg), note), "", 0, 0, true)
}

// line reads one ggcr progress line.
func (p *Push) line(l string) {
	kind, rest, _ := strings.Cut(l, ": ")
	d := strings.Fields(rest)
	dg := ""
	if len(d) > 0 {
		dg = d[0]
	}
	switch kind {
	case "pushed blob":
		p.mu.Lock()
		if p.uploaded == nil {
			p.uploaded = map[string]bool{}
		}
		p.uploaded[dg] = true
		p.mu.Unlock()
		p.blob("uploaded", dg, "")
		return
	case "mounted blob", "existing blob":
		n, known := p.sizes()[dg] // outside p.mu: the first call may read the source
		p.mu.Lock()
		if p.uploaded[dg] {
			p.mu.Unlock()
			return // uploaded by this push a moment ago
		}
		p.skipped += n
		p.mu.Unlock()
		what, where := "mounted", "from another repository of the registry"
		if kind == "existing blob" {
			what, where = "found", "already in the repository"
		}
		sz := ""
		if known {
			sz = size(n) + ", "
		}
		p.blob(what, dg, fmt.Sprintf(" (%s%snot uploaded)", sz, where+", "))
		p.show(false)
		return
	case "existing manifest":
		p.s.Logf("%s: already there", rest)
		return
	}
	// "REF: digest: D size: N", a manifest written.
	if ref, info, ok := strings.Cut(l, ": digest: "); ok {
		dgst, _, _ := strings.Cut(info, " ")
		if strings.Contains(ref, "@") {
			p.s.Logf("wrote manifest %s by digest, untagged (a platform image, or the original image kept for jbuild unwrap)", short(dgst))
		} else {
			p.s.Logf("tagged %s (%s)", ref, short(dgst))
		}
	}
}

type ggcrLines struct{}

func (ggcrLines) Write(b []byte) (int, error) {
	logMu.Lock()
	var pushes []*Push
	for p := range active {
		pushes = append(pushes, p)
	}
	logMu.Unlock()
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if len(pushes) == 1 {
			pushes[0].line(l)
			continue
		}
		// A manifest line names its repository.
		ref, _, ok := strings.Cut(l, ": digest: ")
		for _, p := range pushes {
			if ok && repo(ref) == repo(p.target) {
				p.line(l)
			}
		}
	}
	return len(b), nil
}

// repo is a reference without its tag or digest.
func repo(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

// short is a digest as people compare them: algorithm and 12 hex digits.
func short(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
