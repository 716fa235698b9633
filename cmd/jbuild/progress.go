package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/logs"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/term"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// progress shows upload progress on a terminal: ggcr's per-blob log lines
// (pushed, mounted, existing) and a running byte count. On anything that
// is not a terminal (CI logs, pipes) it prints nothing.
type progress struct {
	w    io.Writer
	ch   chan v1.Update
	wg   sync.WaitGroup
	live bool
}

func newProgress(w *os.File, quiet bool) *progress {
	p := &progress{w: w, live: !quiet && term.IsTerminal(int(w.Fd()))}
	if !p.live {
		return p
	}
	logs.Progress = log.New(w, "", 0)
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
func (p *progress) updates() chan<- v1.Update {
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
func (p *progress) done() {
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
