package buildplan_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"sigs.k8s.io/yaml"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/templates"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// goldenCase is one testdata/cases/*.yaml file: an image (config + files),
// an agent bundle, a profile and options in; the plan (or refusal) out.
type goldenCase struct {
	Description string `json:"description"`
	// Profile names an embedded profile; ProfileFile is a path relative to
	// the buildplan directory.
	Profile     string `json:"profile,omitempty"`
	ProfileFile string `json:"profileFile,omitempty"`
	Image       struct {
		Reference string              `json:"reference"`
		Digest    string              `json:"digest,omitempty"`
		Platform  ocispec.Platform    `json:"platform"`
		Config    ocispec.ImageConfig `json:"config"`
	} `json:"image"`
	// Files of the image, absolute path -> content; NoFS means the caller
	// has no file access at all (FS nil).
	Files map[string]string `json:"files,omitempty"`
	Dirs  []string          `json:"dirs,omitempty"`
	NoFS  bool              `json:"noFS,omitempty"`
	Agent struct {
		Source  string            `json:"source"`
		Version string            `json:"version,omitempty"`
		Digest  string            `json:"digest,omitempty"`
		Files   map[string]string `json:"files"`
	} `json:"agent"`
	Options buildplan.Options `json:"options"`
}

// goldenResult is what testdata/golden/<case>.json holds.
type goldenResult struct {
	FSCalls []string                `json:"fsCalls"`
	Refusal *buildplan.RefusalError `json:"refusal,omitempty"`
	Error   string                  `json:"error,omitempty"`
	Plan    *buildplan.Plan         `json:"plan,omitempty"`
	// Config is the image config after ApplyConfig.
	Config *ocispec.ImageConfig `json:"config,omitempty"`
}

func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/cases/*.yaml")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, file := range cases {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			c := readGoldenCase(t, file)
			res, text := runGoldenCase(t, c, nil)
			got, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			compareGolden(t, filepath.Join("testdata", "golden", name+".json"), got)
			compareGolden(t, filepath.Join("testdata", "golden", name+".txt"), []byte(text))
		})
	}
}

func readGoldenCase(t *testing.T, file string) goldenCase {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var c goldenCase
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return c
}

// runGoldenCase plans c with its options named by names (nil: Neutral)
// and returns the result and its text: the plan, or the refusal or error.
func runGoldenCase(t *testing.T, c goldenCase, names buildplan.Namer) (goldenResult, string) {
	t.Helper()
	prof := loadProfile(t, c)
	img := buildplan.Image{Reference: c.Image.Reference, Digest: c.Image.Digest, Platform: c.Image.Platform, Config: c.Image.Config}
	var mfs *memFS
	if !c.NoFS {
		mfs = newMemFS(c.Files, c.Dirs)
		img.FS = mfs
	}
	agent := memAgent(c.Agent.Source, c.Agent.Version, c.Agent.Digest, c.Agent.Files)
	origEnv := append([]string(nil), img.Config.Env...)

	res := goldenResult{FSCalls: []string{}}
	opts := c.Options
	opts.Names = names
	plan, err := buildplan.Make(img, prof, agent, opts)
	if mfs != nil {
		res.FSCalls = append(res.FSCalls, mfs.calls...)
	}
	var text bytes.Buffer
	var refusal *buildplan.RefusalError
	switch {
	case errors.As(err, &refusal):
		res.Refusal = refusal
		text.WriteString("REFUSED: " + refusal.Reason + "\nHINT: " + refusal.Hint + "\n")
	case err != nil:
		res.Error = err.Error()
		text.WriteString("ERROR: " + err.Error() + "\n")
	default:
		res.Plan = plan
		cfg := buildplan.ApplyConfig(plan, img.Config)
		res.Config = &cfg
		checkApply(t, plan, img.Config, cfg, origEnv)
		if err := plan.WriteText(&text); err != nil {
			t.Fatal(err)
		}
	}
	return res, text.String()
}

func loadProfile(t *testing.T, c goldenCase) *buildplan.Profile {
	t.Helper()
	if c.ProfileFile != "" {
		data, err := os.ReadFile(c.ProfileFile)
		if err != nil {
			t.Fatal(err)
		}
		p, err := buildplan.ParseProfile(data, c.ProfileFile)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p, err := templates.Lookup(c.Profile)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkApply asserts the invariants every plan must keep, whatever the case.
func checkApply(t *testing.T, plan *buildplan.Plan, orig, applied ocispec.ImageConfig, origEnv []string) {
	t.Helper()
	if !reflect.DeepEqual(orig.Env, origEnv) {
		t.Errorf("ApplyConfig modified the input env: %q", orig.Env)
	}
	twice := buildplan.ApplyConfig(plan, applied)
	if !reflect.DeepEqual(twice, applied) {
		t.Errorf("ApplyConfig is not idempotent:\nonce:  %q\ntwice: %q", applied.Env, twice.Env)
	}
	// The engines' apply step gives the same env and plan labels, and is
	// idempotent too, history included.
	parts := buildplan.ApplyImage(plan, buildplan.ImageParts{Config: orig}, buildplan.LayerDiffIDs{})
	if !reflect.DeepEqual(parts.Config.Env, applied.Env) || len(parts.History) != plan.AddedLayers() {
		t.Errorf("ApplyImage differs from ApplyConfig: env %q, history %+v", parts.Config.Env, parts.History)
	}
	if again := buildplan.ApplyImage(plan, parts, buildplan.LayerDiffIDs{}); !reflect.DeepEqual(again, parts) {
		t.Errorf("ApplyImage is not idempotent:\nonce:  %+v\ntwice: %+v", parts, again)
	}
	if !reflect.DeepEqual(applied.Entrypoint, orig.Entrypoint) || !reflect.DeepEqual(applied.Cmd, orig.Cmd) ||
		applied.User != orig.User || applied.WorkingDir != orig.WorkingDir || !reflect.DeepEqual(applied.ExposedPorts, orig.ExposedPorts) {
		t.Errorf("ApplyConfig changed entrypoint/cmd/user/workdir/ports")
	}
	for i, e := range plan.Layer {
		if e.Mode&0o7002 != 0 {
			t.Errorf("%s: mode %o has setuid/setgid/sticky or world-write", e.Path, e.Mode)
		}
		if i > 0 && plan.Layer[i-1].Path >= e.Path {
			t.Errorf("layer not sorted at %s", e.Path)
		}
		if dir := filepath.Dir(e.Path); dir != "/" && !hasEntry(plan.Layer[:i], dir) {
			t.Errorf("%s comes before (or without) its parent %s", e.Path, dir)
		}
	}
}

func hasEntry(es []buildplan.LayerEntry, p string) bool {
	for _, e := range es {
		if e.Path == p && e.Type == buildplan.TypeDir {
			return true
		}
	}
	return false
}

func compareGolden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test ./buildplan -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (run go test ./buildplan -update after checking):\n--- got ---\n%s", file, got)
	}
}
