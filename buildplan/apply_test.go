package buildplan_test

import (
	"reflect"
	"slices"
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

	// Without a recorded base (the frontend on a Dockerfile build) the
	// output records what it changed (LabelRestore) and is sealed over its
	// layer count; an unknown layer gets no label.
	noBase := *plan
	noBase.Labels = map[string]string{}
	for k, v := range plan.Labels {
		if k != buildplan.LabelBaseDigest {
			noBase.Labels[k] = v
		}
	}
	fe := buildplan.ApplyImage(&noBase, in, buildplan.LayerDiffIDs{})
	for _, k := range []string{buildplan.LabelLayer, buildplan.LabelSettingsLayer} {
		if v, ok := fe.Config.Labels[k]; ok {
			t.Errorf("label %s = %q without a known layer", k, v)
		}
	}
	if !reflect.DeepEqual(fe.Config.Env, out.Config.Env) || len(fe.History) != 3 {
		t.Errorf("env or history depends on the base digest: %q %+v", fe.Config.Env, fe.History)
	}
	if err := buildplan.CheckOutputConfig(fe, nil); err != nil {
		t.Errorf("a frontend output fails the output rule: %v", err)
	}
	r, err := buildplan.ParseRestore(fe.Config.Labels)
	if err != nil || r == nil {
		t.Fatalf("restore record: %v %v", r, err)
	}
	if got := r.RestoreLabels(fe.Config.Labels); !reflect.DeepEqual(got, in.Config.Labels) {
		t.Errorf("restored labels %v, want the input's %v", got, in.Config.Labels)
	}
	if got := r.RestoreEnv(); !reflect.DeepEqual(got, in.Config.Env) {
		t.Errorf("restored env %q, want the input's %q", got, in.Config.Env)
	}
	if h, err := r.RestoreHistory(fe.History); err != nil || !reflect.DeepEqual(h, in.History) {
		t.Errorf("restored history %+v (%v), want the input's %+v", h, err, in.History)
	}
	if again := buildplan.ApplyImage(&noBase, fe, buildplan.LayerDiffIDs{}); !reflect.DeepEqual(again, fe) {
		t.Errorf("applying to a frontend output again changed it:\nonce:  %+v\ntwice: %+v", fe, again)
	}
	// An image built FROM it (a layer and an ENV more) is not the output.
	derived := fe
	derived.Config.Env = append(slices.Clone(fe.Config.Env), "APP=1")
	derived.History = append(slices.Clone(fe.History), ocispec.History{CreatedBy: "COPY app /app"})
	if err := buildplan.CheckOutputConfig(derived, nil); err == nil {
		t.Error("an image built FROM a frontend output passes for one")
	}
	derived = fe
	derived.History = append(slices.Clone(fe.History), ocispec.History{CreatedBy: "COPY app /app"})
	if err := buildplan.CheckOutputConfig(derived, nil); err == nil {
		t.Error("a frontend output with a layer more passes for one")
	}
}
