package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// A wrong option found by buildplan (through any wrapping) exits 2 like one
// found by the flags; other errors exit 1.
func TestErrorExitCode(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{usageError{errors.New("--runtime cobol")}, exitUsage},
		{fmt.Errorf("planning app:1: %w", &buildplan.OptionError{Err: errors.New("--param entry: profile jennifer-java has no such parameter")}), exitUsage},
		{fmt.Errorf("wrapping: %w", errors.New("registry down")), exitError},
	} {
		if got := errorExitCode(tt.err); got != tt.want {
			t.Errorf("errorExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
