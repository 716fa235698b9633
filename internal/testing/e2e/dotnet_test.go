package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/jbuild-dev/jbuild/templates"
)

// dotnetLike is busybox plus what identifies a .NET 6 app image: the dotnet
// host and a shared runtime folder, an app.dll, ENTRYPOINT dotnet app.dll,
// and the dynamic loader of loader (glibc's or musl's). It cannot run .NET:
// no .NET runtime is available here, so the .NET agent is checked
// statically.
func dotnetLike(t testing.TB, loader string) v1.Image {
	return busyboxWith(t, map[string][]byte{
		"usr/share/dotnet/dotnet*": []byte("#!/bin/sh\necho not dotnet\n"),
		"usr/share/dotnet/shared/Microsoft.NETCore.App/6.0.36/Microsoft.NETCore.App.deps.json": []byte("{}"),
		loader + "*":                 []byte("not a loader"),
		"app/app.dll":                []byte("MZ"),
		"app/app.runtimeconfig.json": []byte(`{"runtimeOptions":{"framework":{"name":"Microsoft.NETCore.App","version":"6.0.0"}}}`),
	}, func(c *v1.Config) {
		c.Entrypoint = []string{"dotnet", "app.dll"}
		c.Cmd = nil
		c.WorkingDir = "/app"
		c.Env = append(c.Env, "DOTNET_ROOT=/usr/share/dotnet")
	})
}

// The seed scenario's .NET settings, end to end through jbuild's engine: a
// glibc .NET image gets exactly the CORECLR_* and ARIES_* variables of the
// seed deployment and the profiler in the agent layer; a musl (Alpine) one
// is refused with a reason and nothing is written.
func TestDotnetStatic(t *testing.T) {
	requireHeavy(t)
	reg := testenv.RealRegistry(t)
	ctx := context.Background()
	agentDir := filepath.Join(t.TempDir(), "agent.dotnet")
	if err := writeFiles(agentDir, map[string][]byte{"bin/libAriesProfiler.so": []byte("not a profiler")}); err != nil {
		t.Fatal(err)
	}
	prof, err := templates.Lookup("jennifer-dotnet")
	if err != nil {
		t.Fatal(err)
	}
	wrapTo := func(repo string, img v1.Image) (string, error) {
		src, dst := reg+"/e2e/"+repo+":base", reg+"/e2e/"+repo+":jennifer"
		testenv.PushImage(t, src, img)
		ag, err := agent.Open(ctx, agentDir, agent.Options{BundleRoot: []string{prof.BundleRoot}, CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = wrap.Wrap(ctx, openStore(t, src), openStore(t, dst), wrap.Options{
			Agent: ag, Profile: prof,
			Plan:  buildplan.Options{ServerAddress: "10.0.0.5", JbuildVersion: "e2e"},
			Layer: agentlayer.Options{CacheDir: t.TempDir()},
		})
		return dst, err
	}

	dst, err := wrapTo("dotnet-glibc", dotnetLike(t, "lib64/ld-linux-x86-64.so.2"))
	if err != nil {
		t.Fatalf("wrapping a glibc .NET image: %v", err)
	}
	out, err := remote.Image(mustRef(t, dst))
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := out.ConfigFile()
	env := map[string]string{}
	for _, kv := range cf.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	// The seed deployment's env block (agent dir aside).
	for k, want := range map[string]string{
		"CORECLR_ENABLE_PROFILING": "1",
		"CORECLR_PROFILER":         "{6C7CAF0F-D0E5-4274-A71B-6551761BBDC8}",
		"CORECLR_PROFILER_PATH":    "/opt/jennifer/agent.dotnet/bin/libAriesProfiler.so",
		"ARIES_SERVER_ADDRESS":     "10.0.0.5",
		"ARIES_SERVER_PORT":        "5000",
		"ARIES_DOMAIN_ID":          "1000",
		"DOTNET_ROOT":              "/usr/share/dotnet",
	} {
		if env[k] != want {
			t.Errorf("%s=%q, want %q", k, env[k], want)
		}
	}
	if got := readImageFile(t, out, "/opt/jennifer/agent.dotnet/bin/libAriesProfiler.so"); string(got) != "not a profiler" {
		t.Errorf("profiler in the image: %q", got)
	}
	if cf.Config.Labels[buildplan.LabelRuntime] != "dotnet" {
		t.Errorf("runtime label %q", cf.Config.Labels[buildplan.LabelRuntime])
	}

	dst, err = wrapTo("dotnet-musl", dotnetLike(t, "lib/ld-musl-x86_64.so.1"))
	if err == nil || !strings.Contains(err.Error(), "musl") {
		t.Fatalf("wrapping a musl .NET image: err = %v, want a refusal naming musl", err)
	}
	t.Logf("musl refusal: %v", err)
	if _, herr := remote.Head(mustRef(t, dst)); herr == nil {
		t.Errorf("a refused wrap wrote %s", dst)
	}
}
