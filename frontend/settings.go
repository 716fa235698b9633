package frontend

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/templates"
)

// Build arguments that configure the frontend; each mirrors a `jbuild wrap`
// flag (see the README).
const (
	ArgServerAddress = "JENNIFER_SERVER_ADDRESS"  // --server-address
	ArgServerPort    = "JENNIFER_SERVER_PORT"     // --server-port
	ArgDomainID      = "JENNIFER_DOMAIN_ID"       // --domain-id
	ArgAgent         = "JENNIFER_AGENT"           // --agent (an agent image)
	ArgRuntime       = "JENNIFER_RUNTIME"         // --runtime
	ArgProfile       = "JENNIFER_PROFILE"         // --profile (built-in name)
	ArgRuntimeVer    = "JENNIFER_RUNTIME_VERSION" // --runtime-version
	// ArgParamPrefix + NAME sets the profile parameter NAME, as
	// --param NAME=VALUE does: JENNIFER_PARAM_serviceName=shop.
	ArgParamPrefix = "JENNIFER_PARAM_"
	ArgDisable     = "JENNIFER_DISABLE" // build exactly as the plain Dockerfile frontend
	// AgentContext is the named build context that can carry the agent:
	// --build-context jennifer-agent=./agent.java or =docker-image://REF.
	AgentContext = "jennifer-agent"

	buildArgPrefix = "build-arg:"
)

// Settings are the frontend's options, read from build args.
type Settings struct {
	Disable bool
	// AgentRef is an agent image reference (JENNIFER_AGENT); empty means
	// the jennifer-agent named context.
	AgentRef string
	Profile  *buildplan.Profile
	Plan     buildplan.Options
	// Epoch stamps the files the frontend creates (SOURCE_DATE_EPOCH).
	Epoch time.Time
}

// ParseSettings reads the JENNIFER_* build args (and SOURCE_DATE_EPOCH)
// from the frontend options. Invalid values are errors naming the arg.
func ParseSettings(opts map[string]string, version string) (*Settings, error) {
	arg := func(name string) (string, bool) {
		v, ok := opts[buildArgPrefix+name]
		return strings.TrimSpace(v), ok
	}
	// Port and domain stay 0 unless given: then the agent bundle's own
	// config, else the profile's defaults (5000, 1000) apply, as in the CLI.
	s := &Settings{Plan: buildplan.Options{JbuildVersion: version, Names: BuildArgNames}, Epoch: time.Unix(0, 0).UTC()}
	if v, ok := arg(ArgDisable); ok {
		b, err := parseBool(v)
		if err != nil {
			return nil, fmt.Errorf("build-arg %s=%q: %w", ArgDisable, v, err)
		}
		s.Disable = b
	}
	if v, _ := arg(ArgServerAddress); v != "" {
		if err := buildplan.CheckServerAddress(BuildArgNames.Name(buildplan.OptServerAddress), v); err != nil {
			return nil, err
		}
		s.Plan.ServerAddress = v
	}
	for _, n := range []struct {
		name     string
		dst      *int
		min, max int
	}{{ArgServerPort, &s.Plan.ServerPort, 1, 65535}, {ArgDomainID, &s.Plan.DomainID, 1, buildplan.MaxDomainID}} {
		if v, _ := arg(n.name); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil || i < n.min || i > n.max {
				return nil, fmt.Errorf("build-arg %s=%q: want a whole number from %d to %d", n.name, v, n.min, n.max)
			}
			*n.dst = i
		}
	}
	if v, _ := arg(ArgRuntime); v != "" {
		switch rt := buildplan.Runtime(v); rt {
		case buildplan.RuntimeJava, buildplan.RuntimeDotnet, buildplan.RuntimeNodejs, buildplan.RuntimePython, buildplan.RuntimePHP:
			s.Plan.Runtime = rt
		default:
			return nil, fmt.Errorf("build-arg %s=%q: use java, dotnet, nodejs, python or php", ArgRuntime, v)
		}
	}
	if v, _ := arg(ArgProfile); v != "" {
		p, err := templates.Lookup(v)
		if err != nil {
			return nil, fmt.Errorf("build-arg %s: %w", ArgProfile, err)
		}
		s.Profile = p
	}
	if v, _ := arg(ArgRuntimeVer); v != "" {
		if err := buildplan.CheckValue("build-arg "+ArgRuntimeVer, v); err != nil {
			return nil, err
		}
		s.Plan.RuntimeVersion = v
	}
	params, err := paramArgs(opts)
	if err != nil {
		return nil, err
	}
	s.Plan.Params = params
	s.AgentRef, _ = arg(ArgAgent)
	if err := buildplan.CheckValue("build-arg "+ArgAgent, s.AgentRef); err != nil {
		return nil, err
	}
	if v, _ := arg("SOURCE_DATE_EPOCH"); v != "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs < 0 {
			return nil, fmt.Errorf("build-arg SOURCE_DATE_EPOCH=%q: want whole seconds since 1970", v)
		}
		s.Epoch = time.Unix(secs, 0).UTC()
	}
	return s, nil
}

// paramArgs reads the JENNIFER_PARAM_<NAME> build args. A name the
// profile does not declare is refused by buildplan.Make, which knows the
// profile.
func paramArgs(opts map[string]string) (map[string]string, error) {
	var params map[string]string
	for _, name := range paramArgNames(opts) { // sorted: the first bad one, always the same
		if name == "" {
			return nil, fmt.Errorf("build-arg %s: name the profile parameter: --build-arg %sNAME=VALUE", ArgParamPrefix, ArgParamPrefix)
		}
		v := strings.TrimSpace(opts[buildArgPrefix+ArgParamPrefix+name])
		if err := buildplan.CheckValue("build-arg "+ArgParamPrefix+name, v); err != nil {
			return nil, err
		}
		if params == nil {
			params = map[string]string{}
		}
		params[name] = v
	}
	return params, nil
}

// paramArgNames are the NAMEs of the JENNIFER_PARAM_<NAME> build args in
// opts, sorted ("" for the prefix alone).
func paramArgNames(opts map[string]string) []string {
	var names []string
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		if name, ok := strings.CutPrefix(k, buildArgPrefix+ArgParamPrefix); ok {
			names = append(names, name)
		}
	}
	return names
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "", "0", "false", "no", "off":
		return false, nil
	case "1", "true", "yes", "on":
		return true, nil
	}
	return false, fmt.Errorf("want 1/true or 0/false")
}
