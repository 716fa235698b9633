package frontend

import (
	"context"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/wrap"
)

// `wrap --builder`: the frontend's injection on a BuildKit daemon against a
// registry image. The result is a regular wrap output (base labels, so
// unwrap works), with the same agent layer and the same environment as
// `jbuild wrap` gives for the same image.
func TestWrapOnBuilderMatchesWrap(t *testing.T) {
	reg := testenv.RealRegistry(t)
	addr := testenv.Buildkitd(t)
	base := testenv.PushJavaLike(t, reg+"/remote/app:1")
	pushAgentImage(t, reg+"/remote/agent:java")
	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := &Settings{AgentRef: reg + "/remote/agent:java", Plan: buildplanOptions()}
	digest, err := WrapOnBuilder(ctx, c, RemoteWrap{
		Source:    reg + "/remote/app:1",
		Target:    reg + "/remote/app:1-remote",
		Platforms: []ocispecs.Platform{{OS: "linux", Architecture: "amd64"}},
		Settings:  s,
		Insecure:  true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("digest %q", digest)
	}
	remote := image(t, reg+"/remote/app:1-remote")
	rcf, _ := remote.ConfigFile()
	if rcf.Config.Labels[buildplan.LabelBaseDigest] != base.String() {
		t.Errorf("base digest label %q, want %s", rcf.Config.Labels[buildplan.LabelBaseDigest], base)
	}

	res, err := wrap.Wrap(ctx, openStore(t, reg+"/remote/app:1"), openStore(t, reg+"/remote/app:1-jennifer"), wrapOptions(t, reg+"/remote/agent:java"))
	if err != nil {
		t.Fatal(err)
	}
	local := image(t, reg+"/remote/app:1-jennifer")
	lcf, _ := local.ConfigFile()
	rl, _ := remote.Layers()
	ll, _ := local.Layers()
	rd, _ := rl[len(rl)-2].Digest()
	if rd != res.Platforms[0].Layer {
		t.Errorf("agent layer on BuildKit %s, with jbuild wrap %s", rd, res.Platforms[0].Layer)
	}
	if len(rl) != len(ll) {
		t.Errorf("%d layers on BuildKit, %d with jbuild wrap", len(rl), len(ll))
	}
	if strings.Join(rcf.Config.Env, "\n") != strings.Join(lcf.Config.Env, "\n") {
		t.Errorf("env differs:\nbuildkit: %v\nwrap:     %v", rcf.Config.Env, lcf.Config.Env)
	}
	// Both engines apply the config with buildplan.ApplyImage: the same
	// labels but the ones only the CLI engine can know (the settings
	// layer's diff ID, hence the seal over it), the same history texts.
	for k, v := range lcf.Config.Labels {
		switch k {
		case buildplan.LabelSettingsLayer, buildplan.LabelConfigDigest:
			continue
		}
		if rcf.Config.Labels[k] != v {
			t.Errorf("label %s on BuildKit %q, with jbuild wrap %q", k, rcf.Config.Labels[k], v)
		}
	}
	for k, v := range rcf.Config.Labels {
		if _, ok := lcf.Config.Labels[k]; !ok {
			t.Errorf("label %s=%q on BuildKit only", k, v)
		}
	}
	if rcf.Config.Labels[buildplan.LabelConfigDigest] == "" {
		t.Errorf("the BuildKit output is not sealed")
	}
	if len(rcf.History) < 2 || len(lcf.History) < 2 {
		t.Fatalf("history: %d entries on BuildKit, %d with jbuild wrap", len(rcf.History), len(lcf.History))
	}
	rh, lh := rcf.History[len(rcf.History)-2:], lcf.History[len(lcf.History)-2:]
	for i := range rh {
		if rh[i].CreatedBy != lh[i].CreatedBy || rh[i].Comment != lh[i].Comment {
			t.Errorf("history entry %d on BuildKit %q (%q), with jbuild wrap %q (%q)", i, rh[i].CreatedBy, rh[i].Comment, lh[i].CreatedBy, lh[i].Comment)
		}
	}

	// Unwrap finds the base by the recorded name and digest.
	if _, err := wrap.Unwrap(ctx, openStore(t, reg+"/remote/app:1-remote"), openStore(t, reg+"/remote/app:orig"), wrap.Options{}); err != nil {
		t.Fatal(err)
	}
	if d, _ := image(t, reg+"/remote/app:orig").Digest(); d != base {
		t.Errorf("unwrap of the BuildKit output gave %s, want %s", d, base)
	}
}
