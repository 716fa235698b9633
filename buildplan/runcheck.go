package buildplan

import (
	"fmt"
	"strings"
)

// RunCheckKind is what counts, in `jbuild verify --run`, as the agent
// having reported to the throw-away receiver the run points it at.
type RunCheckKind string

const (
	// RunCheckTCP: a TCP connection, and the first bytes it sends are
	// shown (JENNIFER's agents connect to their data server and speak
	// first). The default.
	RunCheckTCP RunCheckKind = "tcp"
	// RunCheckOTLPHTTP: an OTLP/HTTP export, a POST to one of the
	// RunCheck's paths (/v1/traces, /v1/metrics, /v1/logs by default)
	// with a body. The receiver answers it as an OTLP collector does.
	RunCheckOTLPHTTP RunCheckKind = "otlp-http"
	// RunCheckHTTP: any HTTP request (an agent with its own HTTP
	// protocol).
	RunCheckHTTP RunCheckKind = "http"
)

// RunCheckKinds lists the kinds, for messages and documentation.
var RunCheckKinds = []RunCheckKind{RunCheckTCP, RunCheckOTLPHTTP, RunCheckHTTP}

// DefaultOTLPPaths are the OTLP/HTTP signal paths an otlp-http run check
// accepts when the profile names none.
var DefaultOTLPPaths = []string{"/v1/traces", "/v1/metrics", "/v1/logs"}

// runCheckVars are the variables a run check's env and config values may
// use: the receiver's address and port (the run's "server") and the
// install dir. Params are not known when an image is run.
var runCheckVars = []string{VarServerAddress, VarServerPort, VarInstallDir}

// RunCheck says how `jbuild verify --run` points the agent at a throw-away
// receiver on 127.0.0.1 and what counts as the agent having reported.
// Without Env and Config the run derives them from the profile itself:
// every env variable and config value that takes ${SERVER_ADDRESS} or
// ${SERVER_PORT} is given the receiver's (what JENNIFER's profiles do).
type RunCheck struct {
	// Kind: tcp (default), otlp-http or http.
	Kind RunCheckKind `json:"kind,omitempty"`
	// Env are variables set for the run (NAME: value), templated with
	// ${SERVER_ADDRESS} and ${SERVER_PORT} (the receiver) and
	// ${INSTALL_DIR}: the endpoint variable, and anything that makes the
	// agent report soon (an export interval).
	Env map[string]string `json:"env,omitempty"`
	// Config are values of the profile's config file set for the run,
	// templated as Env.
	Config map[string]string `json:"config,omitempty"`
	// Paths are the request paths that count for otlp-http (default
	// DefaultOTLPPaths).
	Paths []string `json:"paths,omitempty"`
}

// CheckKind is the run check's kind, tcp when the profile says none.
func (p *Profile) CheckKind() RunCheckKind {
	if p.RunCheck == nil || p.RunCheck.Kind == "" {
		return RunCheckTCP
	}
	return p.RunCheck.Kind
}

// OTLPPaths are the paths an otlp-http run check accepts.
func (r *RunCheck) OTLPPaths() []string {
	if r == nil || len(r.Paths) == 0 {
		return DefaultOTLPPaths
	}
	return r.Paths
}

// ExpandRunCheck templates a run check value with the receiver's address
// and port and the install dir.
func ExpandRunCheck(s, installDir, addr string, port int) (string, error) {
	return expand(s, map[string]string{VarServerAddress: addr, VarServerPort: fmt.Sprint(port), VarInstallDir: installDir})
}

// validateRunCheck checks the runCheck section.
func (v *validator) runCheck(p *Profile) {
	r := p.RunCheck
	if r == nil {
		return
	}
	switch r.Kind {
	case "", RunCheckTCP, RunCheckOTLPHTTP, RunCheckHTTP:
	default:
		var ks []string
		for _, k := range RunCheckKinds {
			ks = append(ks, string(k))
		}
		v.fail("runCheck.kind", "%q is not one of %s", r.Kind, strings.Join(ks, ", "))
	}
	vars := map[string]bool{}
	for _, n := range runCheckVars {
		vars[n] = true
	}
	takesPort := false
	check := func(f, s string) {
		for _, name := range templateVars(s) {
			if !vars[name] {
				v.fail(f, "unknown variable ${%s}: a run check value may use %s (the receiver's address and port, and the install dir)", name, strings.Join(runCheckVars, ", "))
			}
			if name == VarServerPort {
				takesPort = true
			}
		}
		if strings.Count(s, "${") != len(varRef.FindAllStringIndex(s, -1)) {
			v.fail(f, "malformed ${...} in %q", s)
		}
		v.value(f, s)
	}
	for _, name := range sortedKeys(r.Env) {
		f := "runCheck.env." + name
		if !envName.MatchString(name) {
			v.fail(f, "%q is not a valid variable name", name)
		}
		check(f, r.Env[name])
	}
	if len(r.Config) > 0 && p.Config == nil {
		v.fail("runCheck.config", "the profile has no config file (config:); point the agent at the receiver with runCheck.env")
	}
	for _, k := range sortedKeys(r.Config) {
		f := "runCheck.config." + k
		v.configKey(f, k)
		check(f, r.Config[k])
	}
	if (len(r.Env) > 0 || len(r.Config) > 0) && !takesPort {
		v.fail("runCheck", "no env or config value takes ${SERVER_PORT}: the run check could not point the agent at its receiver, which listens on a port of its own")
	}
	if len(r.Paths) > 0 && r.Kind != RunCheckOTLPHTTP {
		v.fail("runCheck.paths", "only applies to kind %s", RunCheckOTLPHTTP)
	}
	for i, pth := range r.Paths {
		if !strings.HasPrefix(pth, "/") || strings.ContainsAny(pth, " ?#\n") {
			v.fail(fmt.Sprintf("runCheck.paths[%d]", i), "%q is not a URL path (\"/v1/traces\")", pth)
		}
	}
}
