package buildplan

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxValueLen bounds one value jbuild writes into an image config (an env
// value, a label) or an agent config file line. Real values are a few
// hundred bytes; 64 KiB of anything is a mistake (a file passed where its
// path was meant) or an attack, and some runtimes cap the environment.
const MaxValueLen = 64 << 10

// CheckValue refuses a value that would break what it is written into: a
// newline or carriage return starts a new "key = value" line in the
// agent's config file (a value smuggling in another key), a NUL ends a C
// string early (the kernel's execve environment, the agent's parser),
// other control characters are invisible in every listing, invalid UTF-8
// does not survive JSON (the image config), and over-long values are not
// settings. Tabs are allowed. field names the option (in the caller's
// words, see Namer) or profile field for the message ("profile p:
// env[0].value").
func CheckValue(field, v string) error {
	if len(v) > MaxValueLen {
		return fmt.Errorf("%s: value is %d bytes, longer than the %d allowed; pass a path to a file instead of its content", field, len(v), MaxValueLen)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s: value is not valid UTF-8", field)
	}
	for i, r := range v {
		if r == '\t' || !unicode.IsControl(r) {
			continue
		}
		what := fmt.Sprintf("control character %U", r)
		switch r {
		case '\n':
			what = "a newline"
		case '\r':
			what = "a carriage return"
		case 0:
			what = "a NUL byte"
		}
		return fmt.Errorf("%s: value has %s at byte %d; it would break the image config or the agent's config file (one setting per line)", field, what, i)
	}
	return nil
}

// CheckEnvName refuses what is not an environment variable name: an "="
// would make "A=B=c" set A, a newline or NUL breaks the env list.
func CheckEnvName(field, name string) error {
	if !envName.MatchString(name) {
		return fmt.Errorf("%s: %q is not a valid environment variable name (letters, digits and '_', not starting with a digit)", field, name)
	}
	return nil
}

// OptionError is an option of the user's (a flag, a build arg) that is
// wrong in itself or for the chosen profile: a wrong command line (the CLI
// exits 2), not a failed operation. Make returns it through its wrapping.
// Err names the option in the words of Options.Names.
type OptionError struct {
	// Option is the option at fault.
	Option Option
	Err    error
}

func (e *OptionError) Error() string { return e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

// checkOptions validates the user's values before any of them is used.
func checkOptions(o Options) error {
	n := o.names()
	if err := CheckServerAddress(n.Name(OptServerAddress), o.ServerAddress); err != nil {
		return &OptionError{OptServerAddress, err}
	}
	if err := CheckValue(n.Name(OptRuntimeVersion), o.RuntimeVersion); err != nil {
		return &OptionError{OptRuntimeVersion, err}
	}
	for _, name := range sortedKeys(o.Params) {
		if err := CheckValue(n.Name(OptParam(name)), o.Params[name]); err != nil {
			return &OptionError{OptParam(name), err}
		}
	}
	return nil
}
