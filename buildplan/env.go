package buildplan

import "strings"

// MergeEnv applies changes to an image's environment ("KEY=VALUE" entries)
// and returns the new environment plus the changes with Before, HadBefore and
// After filled in for this image. The input slices are not modified.
//
// The rules are what a careful person editing a Dockerfile would do:
//   - the image's order is kept, a new variable goes at the end;
//   - append/prepend merge with the image's value using the separator and
//     never add a value that is already there: the value's elements (split
//     on the separator; on whitespace for " ") must appear as a contiguous
//     run of the existing elements to count as present, so
//     JAVA_TOOL_OPTIONS="-Xmx512m -javaagent:/a.jar" already has
//     "-javaagent:/a.jar" and "--require /x" is found as two tokens;
//   - an empty value counts as unset (default fills it, append does not
//     leave a dangling separator).
//
// Because presence is checked, MergeEnv(MergeEnv(env)) == MergeEnv(env):
// wrapping an already-wrapped image, or a BuildKit frontend that runs twice,
// never duplicates a flag.
func MergeEnv(env []string, changes []EnvChange) ([]string, []EnvChange) {
	out := append([]string(nil), env...)
	done := make([]EnvChange, 0, len(changes))
	for _, c := range changes {
		idx := lookupEnv(out, c.Name)
		var before string
		if idx >= 0 {
			_, before, _ = strings.Cut(out[idx], "=")
		}
		c.Before, c.HadBefore = before, idx >= 0
		c.After = mergeValue(before, c)
		if idx >= 0 {
			out[idx] = c.Name + "=" + c.After
		} else if c.After != "" || c.Op == EnvSet {
			out = append(out, c.Name+"="+c.After)
		}
		done = append(done, c)
	}
	return out, done
}

// mergeValue computes the value a variable gets from one change.
func mergeValue(before string, c EnvChange) string {
	switch c.Op {
	case EnvDefault:
		if before != "" {
			return before
		}
		return c.Value
	case EnvAppend, EnvPrepend:
		if before == "" {
			if c.ValueIfUnset != "" {
				return c.ValueIfUnset
			}
			return c.Value
		}
		// What an earlier run wrote counts as present too: ValueIfUnset
		// need not contain Value's elements, and without this check the
		// second run would append Value to it (found by FuzzMergeEnv).
		if c.Value == "" || hasElements(before, c.Value, c.Separator) ||
			(c.ValueIfUnset != "" && hasElements(before, c.ValueIfUnset, c.Separator)) {
			return before
		}
		if c.Op == EnvAppend {
			if strings.HasSuffix(before, c.Separator) {
				return before + c.Value
			}
			return before + c.Separator + c.Value
		}
		if strings.HasPrefix(before, c.Separator) && c.Separator != " " {
			// ":/default" stays a leading empty element that means "PHP's
			// default scan dir": keep it first rather than dropping it.
			return c.Separator + c.Value + before
		}
		return c.Value + c.Separator + before
	default: // EnvSet and ""
		return c.Value
	}
}

// hasElements reports whether value's elements occur, in order and
// adjacent, among have's elements.
func hasElements(have, value, sep string) bool {
	h, w := splitElems(have, sep), splitElems(value, sep)
	if len(w) == 0 {
		return true
	}
	for i := 0; i+len(w) <= len(h); i++ {
		match := true
		for j := range w {
			if h[i+j] != w[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// splitElems splits on sep, or on any whitespace when sep is blank (option
// strings), dropping empty elements.
func splitElems(s, sep string) []string {
	var parts []string
	if strings.TrimSpace(sep) == "" {
		parts = strings.Fields(s)
	} else {
		parts = strings.Split(s, sep)
	}
	out := parts[:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// lookupEnv returns the index of the entry for name, the last one when the
// config repeats it (the runtime lets the last one win), or -1.
func lookupEnv(env []string, name string) int {
	for i := len(env) - 1; i >= 0; i-- {
		k, _, _ := strings.Cut(env[i], "=")
		if k == name {
			return i
		}
	}
	return -1
}

// envValue returns the value of name in env and whether it is present.
func envValue(env []string, name string) (string, bool) {
	i := lookupEnv(env, name)
	if i < 0 {
		return "", false
	}
	_, v, _ := strings.Cut(env[i], "=")
	return v, true
}
