package frontend

import (
	"strings"
	"testing"

	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/outline"
)

// The outline keeps the Dockerfile's own args first (an ARG the Dockerfile
// declares itself, JENNIFER_SERVER_PORT here, keeps its line), then lists
// the JENNIFER_* args with the values given, and the parameters given.
func TestOutlineListsJbuildArgs(t *testing.T) {
	res, err := outline.Outline{Args: []outline.Arg{{Name: "GREETING", Value: "hello"}, {Name: ArgServerPort, Value: "6000"}}}.ToResult()
	if err != nil {
		t.Fatal(err)
	}
	res.AddMeta("other", []byte("kept"))
	out, err := withJbuildArgs(res, map[string]string{
		buildArgPrefix + ArgServerAddress:               "10.0.0.5",
		buildArgPrefix + ArgParamPrefix + "serviceName": "orders",
	})
	if err != nil {
		t.Fatal(err)
	}
	txt := string(out.Metadata["result.txt"])
	lines := strings.Split(txt, "\n")
	var names []string
	values := map[string]string{}
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 0 {
			names = append(names, f[0])
			if len(f) > 1 {
				values[f[0]] = f[1]
			}
		}
	}
	want := []string{"GREETING", ArgServerPort, ArgServerAddress, ArgDomainID, ArgAgent, ArgProfile, ArgRuntime, ArgRuntimeVer, ArgDisable, ArgParamPrefix + "serviceName"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("args %v, want %v", names, want)
	}
	if values[ArgServerAddress] != "10.0.0.5" || values[ArgParamPrefix+"serviceName"] != "orders" || values[ArgServerPort] != "6000" {
		t.Errorf("the values given are not listed:\n%s", txt)
	}
	if string(out.Metadata["other"]) != "kept" || string(out.Metadata["version"]) != outline.SubrequestsOutlineDefinition.Version {
		t.Errorf("metadata %v: the other keys are not kept", out.Metadata)
	}
	// A result that is not an outline is returned as it is.
	odd := &gwclient.Result{Metadata: map[string][]byte{"result.json": []byte("not json")}}
	if got, err := withJbuildArgs(odd, nil); err != nil || got != odd {
		t.Errorf("an unreadable outline: %v, %v", got, err)
	}
}
