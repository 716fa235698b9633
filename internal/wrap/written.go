package wrap

import (
	"context"
	"errors"
	"fmt"

	"github.com/jbuild-dev/jbuild/internal/transport"
)

// NotWrittenError is a failed or interrupted wrap that had started
// writing to its target: the target tag was not written (it is what it
// was before), and Written says what the registry holds from the attempt.
type NotWrittenError struct {
	Target  string
	Written transport.Written
	// Known: the store reports what it wrote (registries do).
	Known bool
	Err   error
}

func (e *NotWrittenError) Error() string { return e.Summary() + ": " + e.Err.Error() }
func (e *NotWrittenError) Unwrap() error { return e.Err }

// Summary says what was and wasn't written, without the cause.
func (e *NotWrittenError) Summary() string {
	w := e.Written
	switch {
	case !e.Known:
		return fmt.Sprintf("target %s not written", e.Target)
	case w.TagUncertain && !w.Tagged:
		return fmt.Sprintf("target %s may have been written: the registry did not answer the final manifest PUT (blobs uploaded: %d); it is either what it was before or the complete new image", e.Target, w.Blobs)
	case w.Blobs == 0 && w.Manifests == 0:
		return fmt.Sprintf("target %s not written (nothing uploaded)", e.Target)
	}
	return fmt.Sprintf("target %s not written (blobs uploaded: %d, manifests by digest: %d, left for the registry's garbage collection)", e.Target, w.Blobs, w.Manifests)
}

// notWritten wraps err when the target store had started writing, or the
// wrap was cancelled (the user wants to know either way).
func notWritten(ctx context.Context, dst transport.Store, err error) error {
	e := &NotWrittenError{Target: dst.Ref().String(), Err: err}
	if r, ok := dst.(transport.WriteReporter); ok {
		e.Written, e.Known = r.Written(), true
	}
	w := e.Written
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || w.Blobs > 0 || w.Manifests > 0 || w.TagUncertain {
		return e
	}
	return err
}
