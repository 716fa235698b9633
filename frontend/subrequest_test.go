package frontend

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/opencontainers/go-digest"
	"github.com/tonistiigi/fsutil"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// subrequest runs the subrequest id (the frontend option requestid, as
// `docker buildx build --call=...` and `--check` send it) on dockerfile and
// returns the result's metadata. inProcess runs this package's Build;
// else BuildKit's dockerfile.v0 answers, or the frontend image named by the
// Dockerfile's `# syntax=` line, as buildx asks: a build func that solves
// the frontend with the request and reads the result's metadata.
func subrequest(t *testing.T, inProcess bool, dockerfile, id string, args map[string]string) map[string][]byte {
	t.Helper()
	addr := testenv.Buildkitd(t)
	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	ctxFS, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string]string{"filename": "Dockerfile", keyRequestID: id}
	for k, v := range args {
		attrs[buildArgPrefix+k] = v
	}
	opt := client.SolveOpt{LocalMounts: map[string]fsutil.FS{"context": ctxFS, "dockerfile": ctxFS}}
	if inProcess {
		opt.FrontendAttrs = attrs
	}
	var meta map[string][]byte
	var agent atomic.Pointer[string]
	_, err = c.Build(ctx, opt, "jbuild-test", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
		var res *gwclient.Result
		var err error
		if inProcess {
			res, err = Build(ctx, agentWatch{gw, &agent})
		} else {
			res, err = gw.Solve(ctx, gwclient.SolveRequest{Frontend: "dockerfile.v0", FrontendOpt: attrs})
		}
		if err != nil {
			return nil, err
		}
		meta = maps.Clone(res.Metadata)
		return res, nil
	}, nil)
	if ref := agent.Load(); ref != nil {
		t.Errorf("%s resolved the agent image %s", id, *ref)
	}
	if err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	return meta
}

// agentWatch records the agent images the frontend resolves (all agents of
// TestFrontendSubrequests are under fe/agent).
type agentWatch struct {
	gwclient.Client
	resolved *atomic.Pointer[string]
}

func (w agentWatch) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	if strings.Contains(ref, "/fe/agent:") {
		w.resolved.Store(&ref)
	}
	return w.Client.ResolveImageConfig(ctx, ref, opt)
}

// `--call=outline`, `--call=targets` and `--check` are subrequests: the
// frontend answers them as BuildKit's own Dockerfile frontend does (the
// outline with the JENNIFER_* args added), before anything of the agent's,
// so an agent image that does not exist and
// a JENNIFER_* value that would fail a build do not fail them. Both ways in:
// Build in-process and the frontend image through a `# syntax=` line.
func TestFrontendSubrequests(t *testing.T) {
	reg := testenv.RealRegistry(t)
	testenv.PushBusybox(t, reg+"/fe/base:subrequests")
	// Two stages, an ARG, and a lint violation ("as" in lower case after
	// an upper-case FROM: FromAsCasing).
	df := "FROM " + reg + "/fe/base:subrequests as build\n" +
		"ARG GREETING=hello\n" +
		"RUN echo \"$GREETING\" > /greeting\n" +
		"FROM " + reg + "/fe/base:subrequests AS runtime\n" +
		"COPY --from=build /greeting /greeting\n"
	// A usable agent (the case of issue 13: "the build has no result for
	// linux/amd64"), no JENNIFER_* args (the agent would come from the
	// jennifer-agent context, which is not given), and an agent image that
	// does not exist with a port that is not one.
	pushAgentImage(t, reg+"/fe/agent:subrequests")
	argSets := []struct {
		name string
		args map[string]string
	}{
		{"agent image", map[string]string{ArgAgent: reg + "/fe/agent:subrequests", ArgServerAddress: "10.0.0.5", ArgParamPrefix + "serviceName": "orders"}},
		{"no agent", nil},
		{"broken agent settings", map[string]string{ArgAgent: reg + "/fe/agent:does-not-exist", ArgServerPort: "not-a-port"}},
	}
	fe := testenv.FrontendImage(t)
	for _, set := range argSets {
		args := set.args
		t.Run(set.name, func(t *testing.T) {
			// BuildKit's own answers, for the in-process route (the same
			// Dockerfile: the results carry its text and line numbers).
			own := map[string]map[string][]byte{}
			for _, id := range []string{outline.SubrequestsOutlineDefinition.Name, targets.SubrequestsTargetsDefinition.Name, lint.SubrequestLintDefinition.Name} {
				own[id] = subrequest(t, false, df, id, args)
			}
			routes := []struct {
				name      string
				inProcess bool
				syntax    string
			}{{"in-process", true, ""}, {"syntax line", false, fe}}
			for _, route := range routes {
				t.Run(route.name, func(t *testing.T) {
					dockerfile := df
					if route.syntax != "" {
						dockerfile = "# syntax=" + route.syntax + "\n" + df
					}
					same := func(t *testing.T, id, key string, got map[string][]byte) {
						t.Helper()
						if route.inProcess && string(got[key]) != string(own[id][key]) {
							t.Errorf("%s %s:\n%s\nBuildKit's own:\n%s", id, key, got[key], own[id][key])
						}
					}

					t.Run("outline", func(t *testing.T) {
						meta := subrequest(t, route.inProcess, dockerfile, outline.SubrequestsOutlineDefinition.Name, args)
						var o outline.Outline
						if err := json.Unmarshal(meta["result.json"], &o); err != nil {
							t.Fatalf("result.json %q: %v", meta["result.json"], err)
						}
						var names []string
						for _, a := range o.Args {
							names = append(names, a.Name)
						}
						if !strings.Contains(strings.Join(names, " "), "GREETING") {
							t.Errorf("outline args %v: want GREETING", names)
						}
						if !strings.Contains(string(meta["result.txt"]), "GREETING") {
							t.Errorf("result.txt %q: want GREETING", meta["result.txt"])
						}
						// The JENNIFER_* args follow the Dockerfile's own, with
						// the values this build gives; the rest is BuildKit's.
						var own []outline.Arg
						for _, a := range o.Args {
							if !strings.HasPrefix(a.Name, "JENNIFER_") {
								own = append(own, a)
								continue
							}
							if a.Description == "" || a.Value != args[a.Name] {
								t.Errorf("outline arg %s: value %q, description %q; want %q and what it does", a.Name, a.Value, a.Description, args[a.Name])
							}
						}
						for _, want := range []string{ArgServerAddress, ArgAgent, ArgParamPrefix + "serviceName"} {
							if _, given := args[want]; (given || !strings.HasPrefix(want, ArgParamPrefix)) && !slices.Contains(names, want) {
								t.Errorf("outline args %v: want %s", names, want)
							}
						}
						if !strings.Contains(string(meta["result.txt"]), ArgServerAddress) {
							t.Errorf("result.txt %q: want %s", meta["result.txt"], ArgServerAddress)
						}
						o.Args = own
						stripped, err := o.ToResult()
						if err != nil {
							t.Fatal(err)
						}
						same(t, outline.SubrequestsOutlineDefinition.Name, "result.json", stripped.Metadata)
						same(t, outline.SubrequestsOutlineDefinition.Name, "result.txt", stripped.Metadata)
					})

					t.Run("targets", func(t *testing.T) {
						meta := subrequest(t, route.inProcess, dockerfile, targets.SubrequestsTargetsDefinition.Name, args)
						var l targets.List
						if err := json.Unmarshal(meta["result.json"], &l); err != nil {
							t.Fatalf("result.json %q: %v", meta["result.json"], err)
						}
						var names []string
						for _, tg := range l.Targets {
							names = append(names, tg.Name)
						}
						if strings.Join(names, " ") != "build runtime" {
							t.Errorf("targets %v: want build, runtime", names)
						}
						same(t, targets.SubrequestsTargetsDefinition.Name, "result.json", meta)
						same(t, targets.SubrequestsTargetsDefinition.Name, "result.txt", meta)
					})

					t.Run("lint", func(t *testing.T) {
						meta := subrequest(t, route.inProcess, dockerfile, lint.SubrequestLintDefinition.Name, args)
						var r lint.LintResults
						if err := json.Unmarshal(meta["result.json"], &r); err != nil {
							t.Fatalf("result.json %q: %v", meta["result.json"], err)
						}
						var rules []string
						for _, w := range r.Warnings {
							rules = append(rules, w.RuleName)
						}
						if strings.Join(rules, " ") != "FromAsCasing" {
							t.Errorf("lint warnings %v: want FromAsCasing", rules)
						}
						if !strings.Contains(string(meta["result.txt"]), "FromAsCasing") {
							t.Errorf("result.txt %q: want FromAsCasing", meta["result.txt"])
						}
						if string(meta["result.statuscode"]) != string(own[lint.SubrequestLintDefinition.Name]["result.statuscode"]) {
							t.Errorf("status code %q, BuildKit's own %q", meta["result.statuscode"], own[lint.SubrequestLintDefinition.Name]["result.statuscode"])
						}
						// result.json also carries the Dockerfile's LLB,
						// whose digests name the session: compare the warnings.
						var ownr lint.LintResults
						if err := json.Unmarshal(own[lint.SubrequestLintDefinition.Name]["result.json"], &ownr); err != nil {
							t.Fatal(err)
						}
						if a, b := mustJSON(t, r.Warnings), mustJSON(t, ownr.Warnings); route.inProcess && a != b {
							t.Errorf("lint warnings %s, BuildKit's own %s", a, b)
						}
						same(t, lint.SubrequestLintDefinition.Name, "result.txt", meta)
					})
				})
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
