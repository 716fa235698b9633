package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/jbuild-dev/jbuild/internal/progress"
)

// retryNotes shows what a busy or rate-limiting registry costs
// (transport.RegistryOptions.OnRetry: "registry answered GET ... with 503
// Service Unavailable; trying again (attempt 1 of 5 failed)"), so a wrap
// that waits out a backoff does not look hung. Until a command shows its
// progress the notes go to stderr; then into the display: a step's log
// (the terminal view shows it live, CI logs as a line), or, for several
// steps at once, the display's After writer. -q shows none.
type retryNotes struct {
	mu   sync.Mutex
	step *progress.Step
	out  io.Writer // nil: stderr
}

func (n *retryNotes) say(note string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.step != nil:
		n.step.Logf("note: %s", note)
	case n.out != nil:
		fmt.Fprintf(n.out, "note: %s\n", note)
	default:
		fmt.Fprintf(os.Stderr, "note: %s\n", note)
	}
}

// inStep shows the notes in step's log from now on.
func (n *retryNotes) inStep(step *progress.Step) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.step = step
}

// to writes the notes to w from now on.
func (n *retryNotes) to(w io.Writer) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.step, n.out = nil, w
}
