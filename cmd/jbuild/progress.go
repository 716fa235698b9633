package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/term"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// countLine is `wrap -f`'s running byte count of the images it uploads at
// once, on a terminal only (a single wrap shows its steps with
// internal/progress). ggcr's per-blob lines are not printed: they would
// break the count's line.
type countLine struct {
	w    io.Writer
	ch   chan v1.Update
	wg   sync.WaitGroup
	live bool
}

func newProgress(w *os.File, quiet bool) *countLine {
	p := &countLine{w: w, live: !quiet && term.IsTerminal(int(w.Fd()))}
	if !p.live {
		return p
	}
	p.ch = make(chan v1.Update, 16)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for u := range p.ch {
			if u.Error != nil {
				continue
			}
			if u.Total > 0 {
				fmt.Fprintf(p.w, "\ruploaded %s / %s ", buildplan.HumanSize(u.Complete), buildplan.HumanSize(u.Total))
			} else {
				fmt.Fprintf(p.w, "\ruploaded %s ", buildplan.HumanSize(u.Complete))
			}
		}
		fmt.Fprintln(p.w)
	}()
	return p
}

// updates is the channel for remote.WithProgress, nil when silent.
func (p *countLine) updates() chan<- v1.Update {
	if p.ch == nil {
		return nil
	}
	return p.ch
}

// done waits for the display to finish. ggcr closes the channel in a defer
// of the write, so once the wrap has returned the channel is either closed
// (the display drains it at once) or was never used (the wrap failed or
// found the target up to date before writing); the short wait covers both
// without ever closing a channel ggcr owns.
func (p *countLine) done() {
	if p.ch == nil {
		return
	}
	finished := make(chan struct{})
	go func() { p.wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(2 * time.Second):
	}
}
