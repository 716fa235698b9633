package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/jbuild-dev/jbuild/internal/wrap"
)

// Exit codes of an interrupted command, as a shell reports a process
// killed by the signal (128 + signal number): scripts and CI runners tell
// an interruption from a failure (exit code 1).
const (
	exitSIGINT  = 130
	exitSIGTERM = 143
)

// interrupt cancels the command's context on the first SIGINT or SIGTERM
// and remembers which signal it was. The command then stops at the next
// request, writes nothing more and reports what it left behind (the
// target tag is always written last, so it is untouched). A second signal
// exits at once.
type interrupt struct {
	mu  sync.Mutex
	sig os.Signal
}

func interruptContext(stderr io.Writer) (context.Context, func(), *interrupt) {
	ctx, cancel := context.WithCancelCause(context.Background())
	in := &interrupt{}
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-ch:
				in.mu.Lock()
				first := in.sig == nil
				if first {
					in.sig = s
				}
				in.mu.Unlock()
				if first {
					cancel(fmt.Errorf("interrupted by %s", sigName(s)))
					continue
				}
				fmt.Fprintf(stderr, "jbuild: %s again: exiting now (the target tag is written last: it is untouched unless its final write had already been sent)\n", sigName(s))
				os.Exit(exitCode(s))
			case <-done:
				return
			}
		}
	}()
	stop := func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
	return ctx, stop, in
}

// exit reports an interrupted command on stderr and returns its exit
// code; ok is false when no signal arrived.
func (in *interrupt) exit(stderr io.Writer, err error) (code int, ok bool) {
	in.mu.Lock()
	s := in.sig
	in.mu.Unlock()
	if s == nil {
		return 0, false
	}
	var nw *wrap.NotWrittenError
	switch {
	case errors.As(err, &nw):
		fmt.Fprintf(stderr, "jbuild: interrupted by %s: %s\n", sigName(s), nw.Summary())
	case err == nil:
		// The command finished before it noticed the signal.
		return 0, false
	default:
		// Stopped before the engine started writing (reading the source,
		// checking the target): nothing was written.
		fmt.Fprintf(stderr, "jbuild: interrupted by %s: nothing written (stopped while: %v)\n", sigName(s), err)
	}
	return exitCode(s), true
}

func exitCode(s os.Signal) int {
	if s == syscall.SIGTERM {
		return exitSIGTERM
	}
	return exitSIGINT
}

func sigName(s os.Signal) string {
	if s == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}
