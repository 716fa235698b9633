package frontend

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/verify"
	"github.com/jbuild-dev/jbuild/internal/wrap"
)

// A frontend output records what the injection changed
// (buildplan.LabelRestore), so the CLI treats it as its own output:
// unwrap gives exactly the image the same Dockerfile builds with
// JENNIFER_DISABLE=1 (same digest), verify checks it fully (nothing
// skipped), and a newer agent replaces the old one in place.
func TestFrontendOutputUnwrapVerifyUpgrade(t *testing.T) {
	for _, tc := range []struct {
		name      string
		noMergeOp bool
	}{{"merge", false}, {"copy (no MergeOp)", true}} {
		t.Run(tc.name, func(t *testing.T) {
			reg := testenv.RealRegistry(t)
			ctx := context.Background()
			repo := reg + "/fe/restore-" + map[bool]string{false: "merge", true: "copy"}[tc.noMergeOp]
			testenv.PushJavaLike(t, repo+"/javabase:1")
			pushAgentImage(t, repo+"/agent:java")
			df := "FROM " + repo + "/javabase:1\nENV JAVA_TOOL_OPTIONS=\"-Xss1m\"\nLABEL app=demo io.jbuild.version=copied\nCOPY app.jar /app/app.jar\n"
			files := map[string]string{"app.jar": "not really a jar"}
			epoch := "1700000000"
			out, plain := repo+"/app:jb", repo+"/app:plain"
			build{dockerfile: df, files: files, noMergeOp: tc.noMergeOp, push: out,
				args: map[string]string{ArgAgent: repo + "/agent:java", ArgServerAddress: "10.0.0.5", "SOURCE_DATE_EPOCH": epoch}}.mustRun(t)
			want := build{dockerfile: df, files: files, push: plain,
				args: map[string]string{ArgDisable: "1", "SOURCE_DATE_EPOCH": epoch}}.mustRun(t).digest
			if want == "" {
				t.Fatal("the plain build reported no digest")
			}

			if d, _ := image(t, out).Digest(); d.String() == want {
				t.Fatalf("the frontend output %s is the plain build itself", d)
			} else {
				t.Logf("frontend output %s, plain build %s", d, want)
			}
			// unwrap: the very image the plain build made.
			back := repo + "/app:back"
			res, err := wrap.Unwrap(ctx, openStore(t, out), openStore(t, back), wrap.Options{})
			if err != nil {
				t.Fatalf("unwrap: %v", err)
			}
			got, err := image(t, back).Digest()
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != want || res.TargetDigest != want {
				t.Errorf("unwrap wrote %s (result says %s), the JENNIFER_DISABLE=1 build is %s: want the same digest", got, res.TargetDigest, want)
			}

			// verify: every check runs and passes.
			reports, err := verify.Store(ctx, openStore(t, out), transport.Options{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range reports {
				var checked []string
				for _, c := range r.Checks {
					checked = append(checked, c.Name)
					if c.Skipped || !c.OK {
						t.Errorf("verify %s: skipped=%v ok=%v: %s", c.Name, c.Skipped, c.OK, c.Detail)
					}
				}
				if !strings.Contains(strings.Join(checked, ","), "unchanged from the base") {
					t.Errorf("verify ran %v: no comparison with the base", checked)
				}
			}

			// A newer agent, wrapped onto the output in place.
			before, _ := image(t, out).Layers()
			opts := localAgentOptions(t, map[string]string{"lib/jennifer-extra-5.7.0.jar": "newer agent"})
			up, err := wrap.Wrap(ctx, openStore(t, out), openStore(t, out), opts)
			if err != nil {
				t.Fatalf("upgrade: %v", err)
			}
			if !up.Upgrade || up.BaseDigest != want {
				t.Errorf("upgrade=%v from base %s, want an upgrade of the plain build %s", up.Upgrade, up.BaseDigest, want)
			}
			after := image(t, out)
			layers, _ := after.Layers()
			if len(layers) != len(before) {
				t.Fatalf("the upgrade has %d layers, the frontend output %d: the agent must be replaced, not stacked", len(layers), len(before))
			}
			if got := testenv.LayerFile(t, layers[len(layers)-2], "opt/jennifer/agent.java/lib/jennifer-extra-5.7.0.jar"); got != "newer agent" {
				t.Errorf("the upgraded agent layer holds %q for the newer agent's file", got)
			}
			cf, _ := after.ConfigFile()
			if jto := envOf(cf, "JAVA_TOOL_OPTIONS"); !strings.HasPrefix(jto, "-Xss1m ") || strings.Count(jto, "-javaagent:") != 1 {
				t.Errorf("JAVA_TOOL_OPTIONS = %q after the upgrade: want the Dockerfile's -Xss1m and one -javaagent", jto)
			}
			if cf.Config.Labels["app"] != "demo" || cf.Config.Labels[buildplan.LabelBaseDigest] != want {
				t.Errorf("labels after the upgrade: %v", cf.Config.Labels)
			}
			if prev, _ := buildplan.ParseRecorded(cf.Config.Labels); prev == nil || prev.ServerAddress != "10.0.0.5" {
				t.Errorf("the upgrade did not carry the build's server address: %+v", prev)
			}
			// And the upgraded image unwraps to the plain build too.
			back2 := repo + "/app:back2"
			if _, err := wrap.Unwrap(ctx, openStore(t, out), openStore(t, back2), wrap.Options{}); err != nil {
				t.Fatalf("unwrap after the upgrade: %v", err)
			}
			if got, _ := image(t, back2).Digest(); got.String() != want {
				t.Errorf("unwrap after the upgrade wrote %s, want %s", got, want)
			}
		})
	}
}

// An image built FROM a frontend output is a new image: unwrap refuses it
// (it would drop the layers built on top).
func TestFrontendDerivedOutputIsNotUnwrapped(t *testing.T) {
	reg := testenv.RealRegistry(t)
	ctx := context.Background()
	repo := reg + "/fe/derived"
	testenv.PushJavaLike(t, repo+"/javabase:1")
	pushAgentImage(t, repo+"/agent:java")
	out := repo + "/app:jb"
	build{dockerfile: "FROM " + repo + "/javabase:1\nCOPY app.jar /app/app.jar\n", files: map[string]string{"app.jar": "x"}, push: out,
		args: map[string]string{ArgAgent: repo + "/agent:java", ArgServerAddress: "10.0.0.5"}}.mustRun(t)
	derived := repo + "/app:derived"
	build{dockerfile: "FROM " + out + "\nCOPY more.txt /app/more.txt\n", files: map[string]string{"more.txt": "y"}, push: derived,
		args: map[string]string{ArgDisable: "1"}}.mustRun(t)
	_, err := wrap.Unwrap(ctx, openStore(t, derived), openStore(t, repo+"/app:back"), wrap.Options{})
	if err == nil || !strings.Contains(err.Error(), "not jbuild's output") {
		t.Fatalf("unwrap of an image built FROM a frontend output: %v, want a refusal", err)
	}
}

// localAgentOptions are wrap options with the sample agent plus extra files
// (a newer agent), read from a folder.
func localAgentOptions(t *testing.T, extra map[string]string) wrap.Options {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "agent.java")
	if err := os.CopyFS(dst, os.DirFS(sampleAgentDir(t))); err != nil {
		t.Fatal(err)
	}
	for name, content := range extra {
		p := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := agent.Open(context.Background(), dst, agent.Options{BundleRoot: []string{"agent.java"}, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return wrap.Options{Agent: src, Plan: buildplan.Options{JbuildVersion: "test"}, Layer: agentlayer.Options{CacheDir: t.TempDir()}}
}
