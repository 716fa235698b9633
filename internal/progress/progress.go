// Package progress shows what a jbuild command is doing, with BuildKit's
// progress display (progressui, the one `wrap --builder` and docker buildx
// show): on a terminal a live view of every step with its elapsed time,
// in CI logs and pipes plain lines, nothing when quiet.
//
// A step is a progressui vertex; a registry push is a step whose statuses
// keep apart what was uploaded, what the registry mounted from another
// repository, what the repository already had, and the manifests written
// (ggcr reports those as log lines and one byte counter, both read here).
package progress

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/util/progress/progressui"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/term"
)

// Display is one command's progress. A nil *Display shows nothing; every
// method may be called on it.
type Display struct {
	ch   chan *client.SolveStatus
	done chan struct{}

	f      *os.File
	tty    bool
	mu     sync.Mutex
	closed bool
	n      int
	// notes are printed again once the terminal view has ended: it
	// shows a finished step's lines no more.
	notes []string
	// after holds what After's writers got while the terminal view ran.
	after []afterWrite
}

type afterWrite struct {
	w io.Writer
	b []byte
}

// New returns the display for f: progressui's terminal view when f is a
// terminal, its plain lines otherwise, nil (nothing) when quiet. phase
// names the whole in the terminal view's header ("[+] Wrapping 2.1s").
func New(f *os.File, quiet bool, phase string) *Display {
	if quiet {
		return nil
	}
	mode := progressui.PlainMode
	if term.IsTerminal(int(f.Fd())) {
		mode = progressui.TtyMode
	}
	disp, err := progressui.NewDisplay(f, mode, progressui.WithPhase(phase))
	if err != nil {
		if disp, err = progressui.NewDisplay(f, progressui.PlainMode, progressui.WithPhase(phase)); err != nil {
			return nil
		}
	}
	d := &Display{ch: make(chan *client.SolveStatus, 64), done: make(chan struct{}), f: f, tty: mode == progressui.TtyMode}
	go func() {
		defer close(d.done)
		disp.UpdateFrom(context.Background(), d.ch)
	}()
	return d
}

func (d *Display) send(ss *client.SolveStatus) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.closed {
		d.ch <- ss
	}
}

// Close ends the display (steps still open are shown as ended) and waits
// until it has drawn its last state, so what is printed next starts on a
// line of its own.
func (d *Display) Close() {
	if d == nil {
		return
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	close(d.ch)
	notes, after := d.notes, d.after
	d.after = nil
	d.mu.Unlock()
	<-d.done
	for _, n := range notes {
		fmt.Fprintln(d.f, n)
	}
	for _, a := range after {
		a.w.Write(a.b)
	}
}

// After is w for output that must not break the terminal view: on a
// terminal what is written waits until Close, in order; otherwise (plain
// lines, or no display) it is written at once.
func (d *Display) After(w io.Writer) io.Writer {
	if d == nil || !d.tty {
		return w
	}
	return afterWriter{d, w}
}

type afterWriter struct {
	d *Display
	w io.Writer
}

func (a afterWriter) Write(b []byte) (int, error) {
	a.d.mu.Lock()
	defer a.d.mu.Unlock()
	if a.d.closed {
		return a.w.Write(b)
	}
	a.d.after = append(a.d.after, afterWrite{a.w, append([]byte(nil), b...)})
	return len(b), nil
}

// Step is one long step of the command.
type Step struct {
	d       *Display
	v       *client.Vertex
	mu      sync.Mutex
	started time.Time
	ended   bool
}

// Step starts a step named name.
func (d *Display) Step(name string) *Step {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	d.n++
	n := d.n
	d.mu.Unlock()
	now := time.Now()
	s := &Step{d: d, started: now, v: &client.Vertex{Digest: digest.FromString(fmt.Sprintf("jbuild-step-%d-%s", n, name)), Name: name, Started: &now}}
	d.send(&client.SolveStatus{Vertexes: []*client.Vertex{s.vertex()}})
	return s
}

func (s *Step) vertex() *client.Vertex {
	v := *s.v
	return &v
}

// Done ends the step, failed when err is not nil.
func (s *Step) Done(err error) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.ended = true
	now := time.Now()
	s.v.Completed = &now
	if err != nil {
		// The command prints the error itself, once, when the display
		// has ended; the step only says it failed.
		s.v.Error = "failed (the error follows)"
	}
	s.d.send(&client.SolveStatus{Vertexes: []*client.Vertex{s.vertex()}})
}

// Logf shows a line under the step (a note).
func (s *Step) Logf(format string, a ...any) {
	if s == nil {
		return
	}
	line := fmt.Sprintf(format, a...)
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	s.d.send(&client.SolveStatus{Logs: []*client.VertexLog{{Vertex: s.v.Digest, Stream: 2, Data: []byte(line), Timestamp: time.Now()}}})
}

// Notef shows a note for the user under the step: "note: ..." as a line
// of the step, and on a terminal printed once more when the display ends.
func (s *Step) Notef(format string, a ...any) {
	if s == nil {
		return
	}
	line := "note: " + fmt.Sprintf(format, a...)
	s.Logf("%s", line)
	if s.d.tty {
		s.d.mu.Lock()
		s.d.notes = append(s.d.notes, line)
		s.d.mu.Unlock()
	}
}

// status reports one counter of the step.
func (s *Step) status(id, name string, current, total int64, done bool) {
	now := time.Now()
	st := &client.VertexStatus{ID: id, Vertex: s.v.Digest, Name: name, Current: current, Total: total, Timestamp: now, Started: &s.started}
	if done {
		st.Completed = &now
	}
	s.d.send(&client.SolveStatus{Statuses: []*client.VertexStatus{st}})
}
