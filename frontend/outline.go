package frontend

import (
	"encoding/json"

	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/outline"
)

// `docker buildx build --call=outline` lists the build args a Dockerfile
// takes: BuildKit's Dockerfile frontend answers with its ARGs, and the
// jbuild frontend adds its own JENNIFER_* args with what they do and the
// values this build gives them, so a user finds them where buildx users
// look. Every other part of the answer is BuildKit's, unchanged.

// argHelp says what each build arg does, in the outline's DESCRIPTION
// column; a JENNIFER_PARAM_<NAME> the build gives is listed too.
var argHelp = []struct{ name, help string }{
	{ArgServerAddress, "JENNIFER data server address the agent connects to (jbuild wrap --server-address)"},
	{ArgServerPort, "data server TCP port (default: the agent's config, else 5000)"},
	{ArgDomainID, "JENNIFER domain id (default: the agent's config, else 1000)"},
	{ArgAgent, "agent image (jbuild agent push); without it, the jennifer-agent build context"},
	{ArgProfile, "built-in agent profile by name (jbuild profiles); default: the one the agent matches"},
	{ArgRuntime, "runtime to monitor instead of the detected one: java, dotnet, nodejs, python or php"},
	{ArgRuntimeVer, "runtime major.minor when the image does not reveal it (PHP)"},
	{ArgDisable, "1: build exactly as BuildKit's Dockerfile frontend, without the agent"},
}

// withJbuildArgs adds the JENNIFER_* args to an outline result; a result
// it cannot read is returned as it is.
func withJbuildArgs(res *gwclient.Result, opts map[string]string) (*gwclient.Result, error) {
	var o outline.Outline
	if res == nil || json.Unmarshal(res.Metadata["result.json"], &o) != nil {
		return res, nil
	}
	declared := map[string]bool{}
	for _, a := range o.Args {
		declared[a.Name] = true // an ARG of the Dockerfile's own keeps its line
	}
	add := func(name, help string) {
		if !declared[name] {
			o.Args = append(o.Args, outline.Arg{Name: name, Description: help, Value: opts[buildArgPrefix+name]})
		}
	}
	for _, a := range argHelp {
		add(a.name, a.help)
	}
	for _, name := range paramArgNames(opts) {
		if name != "" {
			add(ArgParamPrefix+name, "profile parameter "+name+" (jbuild wrap --param "+name+"=VALUE)")
		}
	}
	out, err := o.ToResult()
	if err != nil {
		return nil, err
	}
	for k, v := range res.Metadata {
		if _, ok := out.Metadata[k]; !ok {
			out.AddMeta(k, v)
		}
	}
	return out, nil
}
