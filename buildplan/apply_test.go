package buildplan_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
)

// TestApplyImage checks the config side both engines share: the image's own
// env values survive, the plan's and the known layer labels are set, the two
// history entries are appended once, the seal matches the result, and
// applying again changes nothing.
func TestApplyImage(t *testing.T) {
	c := readGoldenCase(t, "testdata/cases/java-tool-options.yaml")
	res, _ := runGoldenCase(t, c, nil)
	plan := res.Plan
	if plan == nil {
		t.Fatalf("no plan: %+v", res)
	}
	created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	in := buildplan.ImageParts{
		Config:      c.Image.Config,
		Healthcheck: []string{"CMD", "true", "30s", "0s", "0s", "3"},
		Shell:       []string{"/bin/sh", "-c"},
		Created:     &created,
		History:     []ocispec.History{{Created: &created, CreatedBy: "base"}},
		BaseDiffIDs: []string{"sha256:b1", "sha256:b2"},
	}
	origEnv := append([]string(nil), in.Config.Env...)
	layers := buildplan.LayerDiffIDs{Agent: "sha256:agent", Settings: "sha256:settings"}
	out := buildplan.ApplyImage(plan, in, layers)

	if !reflect.DeepEqual(in.Config.Env, origEnv) || in.Config.Labels != nil || len(in.History) != 1 {
		t.Errorf("ApplyImage modified its input: %+v", in)
	}
	env := map[string]string{}
	for _, kv := range out.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	if jto := env["JAVA_TOOL_OPTIONS"]; !strings.HasPrefix(jto, "-Xmx512m -XX:+UseG1GC ") || !strings.Contains(jto, "-javaagent:") {
		t.Errorf("JAVA_TOOL_OPTIONS %q: the image's own options must survive, the agent's appended", jto)
	}
	if env["JAVA_HOME"] != "/opt/java/openjdk" || !strings.HasPrefix(env["PATH"], "/opt/java/openjdk/bin:") {
		t.Errorf("the image's own env changed: %q", out.Config.Env)
	}
	for k, v := range plan.Labels {
		if out.Config.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, out.Config.Labels[k], v)
		}
	}
	if out.Config.Labels[buildplan.LabelLayer] != layers.Agent || out.Config.Labels[buildplan.LabelSettingsLayer] != layers.Settings {
		t.Errorf("layer labels %q %q", out.Config.Labels[buildplan.LabelLayer], out.Config.Labels[buildplan.LabelSettingsLayer])
	}
	seal := out.Config.Labels[buildplan.LabelConfigDigest]
	if seal == "" || seal != out.Sealed().Seal() {
		t.Errorf("seal %q does not match the result %q", seal, out.Sealed().Seal())
	}
	if len(out.History) != 3 || out.History[0].CreatedBy != "base" ||
		out.History[1].Comment != "jbuild agent layer" || out.History[2].Comment != "jbuild settings layer" ||
		!out.History[1].Created.Equal(created) || !reflect.DeepEqual(out.History[1:], plan.History(&created)) {
		t.Errorf("history %+v", out.History)
	}
	if !reflect.DeepEqual(out.Healthcheck, in.Healthcheck) || !reflect.DeepEqual(out.Shell, in.Shell) ||
		!reflect.DeepEqual(out.Config.Entrypoint, in.Config.Entrypoint) || out.Config.WorkingDir != in.Config.WorkingDir ||
		!reflect.DeepEqual(out.Config.ExposedPorts, in.Config.ExposedPorts) || !reflect.DeepEqual(out.BaseDiffIDs, in.BaseDiffIDs) {
		t.Errorf("ApplyImage changed a field it must carry through: %+v", out)
	}

	if twice := buildplan.ApplyImage(plan, out, layers); !reflect.DeepEqual(twice, out) {
		t.Errorf("ApplyImage is not idempotent:\nonce:  %+v\ntwice: %+v", out, twice)
	}

	// Without a recorded base (the frontend on a Dockerfile build) nothing
	// is sealed, and an unknown layer gets no label.
	noBase := *plan
	noBase.Labels = map[string]string{}
	for k, v := range plan.Labels {
		if k != buildplan.LabelBaseDigest {
			noBase.Labels[k] = v
		}
	}
	fe := buildplan.ApplyImage(&noBase, in, buildplan.LayerDiffIDs{})
	for _, k := range []string{buildplan.LabelConfigDigest, buildplan.LabelLayer, buildplan.LabelSettingsLayer} {
		if v, ok := fe.Config.Labels[k]; ok {
			t.Errorf("label %s = %q without a base digest or a known layer", k, v)
		}
	}
	if !reflect.DeepEqual(fe.Config.Env, out.Config.Env) || len(fe.History) != 3 {
		t.Errorf("env or history depends on the base digest: %q %+v", fe.Config.Env, fe.History)
	}
}
