package buildplan

import "strings"

// Option identifies a setting the user gives jbuild, whatever an interface
// calls it: the CLI has flags (--server-port), the BuildKit frontend build
// args (JENNIFER_SERVER_PORT). buildplan's messages name options only
// through the Namer of Options.Names, so each interface shows its users
// its own words, and a frontend user is never told to pass a flag.
type Option string

// The options buildplan's messages name. The values are the neutral names
// (the Neutral namer's).
const (
	OptServerAddress  Option = "server-address"
	OptServerPort     Option = "server-port"
	OptDomainID       Option = "domain-id"
	OptRuntime        Option = "runtime"
	OptRuntimeVersion Option = "runtime-version"
	// OptPlatform is the platform of the image to wrap (or to build).
	OptPlatform Option = "platform"
	// OptProfileFile is a profile of the user's own, from a file.
	OptProfileFile Option = "profile-file"
)

// AllOptions lists the options above, for the interfaces' tests that each
// one has a name; profile parameters (OptParam) come on top.
var AllOptions = []Option{OptServerAddress, OptServerPort, OptDomainID, OptRuntime, OptRuntimeVersion, OptPlatform, OptProfileFile}

const paramPrefix = "param "

// OptParam is the profile parameter name (Options.Params).
func OptParam(name string) Option { return Option(paramPrefix + name) }

// Param returns the parameter's name when o is a profile parameter.
func (o Option) Param() (string, bool) { return strings.CutPrefix(string(o), paramPrefix) }

// Namer words options for one interface.
type Namer interface {
	// Name names the option where a message is about the value given:
	// "--server-port" (then " 70000: ..."), "build-arg JENNIFER_SERVER_PORT".
	Name(o Option) string
	// Give says what the user does to give the option value: a value or
	// a placeholder ("MAJOR.MINOR", "java|dotnet"), or "" for none. It is
	// a phrase starting with a verb in lower case, for a hint: "pass
	// --runtime-version MAJOR.MINOR", "set build-arg JENNIFER_RUNTIME=java".
	Give(o Option, value string) string
}

// Neutral names options by their Option value ("server-port", "param
// entry"; hints "set option runtime to java"): buildplan's own text, when
// the caller sets no Namer (the golden files, library callers).
var Neutral Namer = neutralNames{}

type neutralNames struct{}

func (neutralNames) Name(o Option) string { return string(o) }

func (neutralNames) Give(o Option, value string) string {
	if value == "" {
		return "set option " + string(o)
	}
	return "set option " + string(o) + " to " + value
}

// names is the Namer of o: Names, else Neutral.
func (o Options) names() Namer {
	if o.Names != nil {
		return o.Names
	}
	return Neutral
}
