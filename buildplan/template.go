package buildplan

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Template variables every profile may use. Params declared by the profile
// are added to these; any other ${NAME} is a profile error, found when the
// profile is parsed rather than when an image is wrapped.
const (
	VarInstallDir     = "INSTALL_DIR"     // the profile's installDir
	VarServerAddress  = "SERVER_ADDRESS"  // OptServerAddress ("" when not given)
	VarServerPort     = "SERVER_PORT"     // OptServerPort ("" when not given)
	VarDomainID       = "DOMAIN_ID"       // OptDomainID ("" when not given)
	VarRuntimeVersion = "RUNTIME_VERSION" // major.minor of the detected runtime, e.g. "8.2"
	VarArch           = "ARCH"            // amd64, arm64, ... from the image platform
)

// builtinVars lists the variables above, for validation and documentation.
var builtinVars = []string{VarInstallDir, VarServerAddress, VarServerPort, VarDomainID, VarRuntimeVersion, VarArch}

// varRef matches ${NAME} and ${NAME:-default}. A "$" not followed by "{" is
// literal, so shell-style "$HOME" in a value passes through untouched: the
// container's shell or runtime may expand it, jbuild does not.
var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

var paramName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// templateVars returns the variable names a template references.
func templateVars(s string) []string {
	var names []string
	for _, m := range varRef.FindAllStringSubmatch(s, -1) {
		names = append(names, m[1])
	}
	return names
}

// expand substitutes ${NAME} and ${NAME:-default} (default used when the
// variable is empty, as in sh). A name missing from vars is an error; parsing
// rejects such profiles, so this only fires for hand-built Profiles.
func expand(s string, vars map[string]string) (string, error) {
	var err error
	out := varRef.ReplaceAllStringFunc(s, func(ref string) string {
		m := varRef.FindStringSubmatch(ref)
		v, ok := vars[m[1]]
		if !ok {
			if err == nil {
				err = fmt.Errorf("unknown variable ${%s} (known: %s)", m[1], strings.Join(sortedKeys(vars), ", "))
			}
			return ref
		}
		if v == "" && m[2] != "" {
			return m[3]
		}
		return v
	})
	return out, err
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// giveVar says what a user does to give a variable a value, for hints:
// the option that sets it, in n's words.
func giveVar(n Namer, name string) string {
	switch name {
	case VarServerAddress:
		return n.Give(OptServerAddress, "")
	case VarServerPort:
		return n.Give(OptServerPort, "")
	case VarDomainID:
		return n.Give(OptDomainID, "")
	case VarRuntimeVersion:
		return n.Give(OptRuntimeVersion, "")
	case VarInstallDir, VarArch:
		return "fix the profile"
	}
	return n.Give(OptParam(name), "VALUE")
}
