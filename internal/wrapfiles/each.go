package wrapfiles

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/jbuild-dev/jbuild/internal/syncbuf"
)

// concurrency is how many images are read or wrapped at once. A wrap
// mostly waits on registries, which would allow more, but it also
// compresses and reads layers on the CPU and keeps layers in flight, so
// it is bounded by the CPUs, and by 4 so that a folder of manifests does
// not open dozens of upload sessions against one registry at once. No
// flag: the bound is about the machine, not the manifests.
func concurrency() int { return min(4, runtime.GOMAXPROCS(0)) }

// errLaterStopped cancels the images after one that failed.
var errLaterStopped = errors.New("an image before this one failed")

// each runs fn for 0 <= i < n, at most limit at once, started in input
// order, each with its own Output.
//
// The error returned is that of the first i, in input order, whose fn
// failed. A failure cancels the fns after it and starts no more, while
// those before it run to their end: so the error, and what was printed,
// are what a run one image at a time would give, whatever the timing.
// What fn(i) prints is printed once every fn before it has ended, in
// order; nothing after the failed one is printed.
//
// fn's context is not cancelled when fn returns: what was read with it
// may keep it for later (a registry image reads its layers lazily with
// the context it was got with, in the next step's wrap).
func each(ctx context.Context, n, limit int, opts Options, fn func(ctx context.Context, i int, out Output) error) error {
	type slot struct {
		stdout, stderr syncbuf.Buffer // the wrap engine may write notes from more than one goroutine
		cancel         context.CancelCauseFunc
		done           bool
		err            error
	}
	slots := make([]slot, n)
	var mu sync.Mutex
	failed := n  // the first i that failed
	printed := 0 // slots before this one are printed
	finish := func(i int, err error) {
		mu.Lock()
		defer mu.Unlock()
		slots[i].done, slots[i].err = true, err
		if err != nil && i < failed {
			failed = i
			for j := i + 1; j < n; j++ {
				if c := slots[j].cancel; c != nil {
					c(errLaterStopped)
				}
			}
		}
		for printed < n && printed <= failed && slots[printed].done {
			opts.Stderr.Write(slots[printed].stderr.Bytes())
			opts.Stdout.Write(slots[printed].stdout.Bytes())
			printed++
		}
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	started := 0
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		mu.Lock()
		if failed < n || ctx.Err() != nil {
			mu.Unlock()
			break
		}
		ictx, cancel := context.WithCancelCause(ctx)
		slots[i].cancel = cancel
		mu.Unlock()
		started++
		s := &slots[i]
		out := Output{Stdout: &s.stdout, Stderr: &s.stderr, Notef: func(string, ...any) {}}
		if !opts.Quiet {
			out.Notef = func(format string, a ...any) { fmt.Fprintf(&s.stderr, "note: "+format+"\n", a...) }
		}
		wg.Go(func() {
			defer func() { <-sem }()
			finish(i, fn(ictx, i, out))
		})
	}
	wg.Wait()
	if failed < n {
		return slots[failed].err
	}
	if started < n {
		return context.Cause(ctx)
	}
	return nil
}
