// Command jbuild turns an application container image into its monitored
// variant: the JENNIFER APM agent's files added as one layer and the settings
// that activate the agent written into the image config.
//
// This package is flags, wiring and output only; the work is done by
// buildplan and internal/wrap.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

// Exit codes: 0 success, 1 the operation failed, 2 the command line is wrong,
// 130 and 143 interrupted by SIGINT and SIGTERM (interrupt.go).
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() { os.Exit(realMain()) }

func realMain() int {
	ctx, stop, intr := interruptContext(os.Stderr)
	defer stop()
	if stopProfile := startProfile(); stopProfile != nil {
		defer stopProfile()
	}
	cmd, g := newRootCmd()
	err := cmd.ExecuteContext(ctx)
	g.cleanup()
	if code, ok := intr.exit(os.Stderr, err); ok {
		return code
	}
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "jbuild:", err)
	return errorExitCode(err)
}

// errorExitCode maps a failed command's error to its exit code: a wrong
// command line is 2, whether cmd/jbuild found it (usageError) or buildplan
// did (buildplan.OptionError: an option the chosen profile cannot take,
// known only once the agent and the image are read); anything else is 1.
func errorExitCode(err error) int {
	var ue usageError
	var oe *buildplan.OptionError
	if errors.As(err, &ue) || errors.As(err, &oe) {
		return exitUsage
	}
	return exitError
}

// usageError marks a wrong command line (exit code 2).
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }
