package buildplan_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/templates"
)

func javaPlan(t *testing.T, fsys *memFS, opts buildplan.Options) (*buildplan.Plan, error) {
	t.Helper()
	prof, err := templates.Lookup("jennifer-java")
	if err != nil {
		t.Fatal(err)
	}
	img := buildplan.Image{
		Reference: "shop/api:1",
		Platform:  ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config:    ocispec.ImageConfig{User: "1000:1000", Entrypoint: []string{"java", "-jar", "/app/app.jar"}},
		FS:        fsys,
	}
	agent := memAgent("agent.java", "5.6.4", "sha256:aa", map[string]string{"jennifer.jar": "jar", "conf/jennifer.conf": "# conf\n"})
	if opts.ServerAddress == "" && opts.Previous == nil {
		opts.ServerAddress = "10.0.0.5"
	}
	return buildplan.Make(img, prof, agent, opts)
}

func settingsEntry(p *buildplan.Plan, path string) (buildplan.LayerEntry, bool) {
	for _, e := range p.Settings {
		if e.Path == path {
			return e, true
		}
	}
	return buildplan.LayerEntry{}, false
}

// A base whose /opt/jennifer belongs to the app user (0700) keeps it so:
// the settings layer writes the folder again with the base's owner and mode
// over the agent layer's root-owned 0755 one, and the agent layer itself is
// the one every image shares.
func TestBaseParentsKeepOwnerAndMode(t *testing.T) {
	fsys := newMemFS(nil, []string{"/opt/jennifer"})
	fsys.stats = map[string]buildplan.FileStat{"/opt/jennifer": {Mode: fs.ModeDir | 0o700, UID: 1000, GID: 1000}}
	p, err := javaPlan(t, fsys, buildplan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, ok := settingsEntry(p, "/opt/jennifer")
	if !ok || e.Type != buildplan.TypeDir || e.Mode != 0o700 || e.UID != 1000 || e.GID != 1000 {
		t.Fatalf("settings entry for /opt/jennifer = %+v (found %v), want a dir 0700 owned by 1000:1000", e, ok)
	}
	if _, ok := settingsEntry(p, "/opt"); ok {
		t.Error("/opt is root 0755 in the base, like the agent layer's: the settings layer must not repeat it")
	}
	plain, err := javaPlan(t, newMemFS(nil, nil), buildplan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Layer) != len(plain.Layer) {
		t.Fatalf("agent layer depends on the base: %d entries vs %d", len(p.Layer), len(plain.Layer))
	}
	for i := range p.Layer {
		if p.Layer[i].Path != plain.Layer[i].Path || p.Layer[i].Mode != plain.Layer[i].Mode || p.Layer[i].UID != plain.Layer[i].UID {
			t.Errorf("agent layer entry %d differs: %+v vs %+v", i, p.Layer[i], plain.Layer[i])
		}
	}
	if p.Settings[0].Path != "/opt/jennifer" {
		t.Errorf("settings layer must list the parent before its children, starts with %s", p.Settings[0].Path)
	}
}

// A base whose /opt is a symlink to /srv keeps the symlink: the agent goes
// where it points, and the plan says so.
func TestSymlinkedParentIsFollowed(t *testing.T) {
	fsys := newMemFS(nil, []string{"/srv/app"})
	fsys.stats = map[string]buildplan.FileStat{"/opt": {Mode: fs.ModeSymlink | 0o777, Link: "srv"}}
	p, err := javaPlan(t, fsys, buildplan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.InstallDir != "/srv/jennifer/agent.java" {
		t.Fatalf("InstallDir = %s, want /srv/jennifer/agent.java", p.InstallDir)
	}
	for _, e := range append(append([]buildplan.LayerEntry{}, p.Layer...), p.Settings...) {
		if e.Path == "/opt" || strings.HasPrefix(e.Path, "/opt/") {
			t.Errorf("layer entry %s would replace the base's /opt symlink", e.Path)
		}
	}
	if got := strings.Join(p.Warnings, "\n"); !strings.Contains(got, "/opt is a symlink to /srv") {
		t.Errorf("warnings do not explain the move: %s", got)
	}
	if env := p.Env[0].After; !strings.Contains(env, "-javaagent:/srv/jennifer/agent.java/jennifer.jar") {
		t.Errorf("JAVA_TOOL_OPTIONS = %q, want the resolved path", env)
	}
}

func TestParentThatIsAFileIsRefused(t *testing.T) {
	fsys := newMemFS(map[string]string{"/opt/jennifer": "not a folder"}, nil)
	_, err := javaPlan(t, fsys, buildplan.Options{})
	var r *buildplan.RefusalError
	if !errors.As(err, &r) || !strings.Contains(r.Reason, "/opt/jennifer is a file") {
		t.Fatalf("err = %v, want a refusal naming /opt/jennifer", err)
	}
}

func TestSymlinkLoopIsRefused(t *testing.T) {
	fsys := newMemFS(nil, nil)
	fsys.stats = map[string]buildplan.FileStat{"/opt": {Mode: fs.ModeSymlink | 0o777, Link: "/opt"}}
	if _, err := javaPlan(t, fsys, buildplan.Options{}); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Fatalf("err = %v, want a symlink loop refusal", err)
	}
}

// An upgrade carries the image's recorded settings forward; a value given
// now overrides; the bundle's config comes after both.
func TestUpgradeCarriesRecordedSettings(t *testing.T) {
	prev := &buildplan.Recorded{ServerAddress: "10.9.9.9", ServerPort: 7000, DomainID: 2000}
	p, err := javaPlan(t, newMemFS(nil, nil), buildplan.Options{Previous: prev, DomainID: 3000})
	if err != nil {
		t.Fatal(err)
	}
	conf := configOf(t, p)
	for _, want := range []string{"server_address = 10.9.9.9", "server_port = 7000", "domain_id = 3000"} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	if got := strings.Join(p.Carried, ", "); got != "server address 10.9.9.9, server port 7000" {
		t.Errorf("Carried = %q", got)
	}
	rec, err := buildplan.ParseRecorded(p.Labels)
	if err != nil || rec == nil || rec.ServerAddress != "10.9.9.9" || rec.ServerPort != 7000 || rec.DomainID != 3000 {
		t.Errorf("recorded settings = %+v, %v", rec, err)
	}
}

func TestRecordedSettingsAreCheckedLikeFlags(t *testing.T) {
	prev := &buildplan.Recorded{ServerAddress: "10.0.0.1\nserver_port = 1"}
	if _, err := javaPlan(t, newMemFS(nil, nil), buildplan.Options{Previous: prev}); err == nil || !strings.Contains(err.Error(), buildplan.LabelSettings) {
		t.Fatalf("err = %v, want the label named", err)
	}
}

func configOf(t *testing.T, p *buildplan.Plan) string {
	t.Helper()
	for _, e := range append(append([]buildplan.LayerEntry{}, p.Settings...), p.Layer...) {
		if e.Path == p.ConfigFile {
			return string(e.Content)
		}
	}
	t.Fatalf("no %s in the plan", p.ConfigFile)
	return ""
}

func TestOutputEvidence(t *testing.T) {
	labels := map[string]string{
		buildplan.LabelVersion: "v1", buildplan.LabelBaseDigest: "sha256:base",
		buildplan.LabelLayer: "sha256:agent", buildplan.LabelSettingsLayer: "sha256:settings",
		buildplan.LabelConfigDigest: "sha256:seal",
	}
	good := buildplan.OutputEvidence{Labels: labels, SealedDigest: "sha256:seal", DiffIDs: []string{"sha256:b1", "sha256:agent", "sha256:settings"}, Layers: 3, BaseDiffIDs: []string{"sha256:b1"}}
	if err := good.CheckBase(); err != nil {
		t.Fatalf("jbuild's output refused: %v", err)
	}
	for name, mutate := range map[string]func(e *buildplan.OutputEvidence){
		"config changed (FROM + ENV)": func(e *buildplan.OutputEvidence) { e.SealedDigest = "sha256:other" },
		"layer added on top (FROM + COPY)": func(e *buildplan.OutputEvidence) {
			e.DiffIDs = append(e.DiffIDs, "sha256:extra")
			e.Layers++
		},
		"no seal (copied labels)": func(e *buildplan.OutputEvidence) {
			e.Labels = cloneLabels(labels)
			delete(e.Labels, buildplan.LabelConfigDigest)
		},
		"agent layer names no layer": func(e *buildplan.OutputEvidence) {
			e.Labels = cloneLabels(labels)
			e.Labels[buildplan.LabelLayer] = "sha256:nothing"
		},
		"another base below":           func(e *buildplan.OutputEvidence) { e.BaseDiffIDs = []string{"sha256:b2"} },
		"manifest and config disagree": func(e *buildplan.OutputEvidence) { e.Layers = 4 },
	} {
		e := good
		mutate(&e)
		if err := e.CheckBase(); err == nil {
			t.Errorf("%s: taken for jbuild's output", name)
		}
	}
}

func cloneLabels(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// The agent marker (jennifer.jar) is what the JVM loads: a symlink, even
// one to itself, or a folder is refused when planning, naming it.
func TestAgentMarkerMustBeARegularFile(t *testing.T) {
	prof, err := templates.Lookup("jennifer-java")
	if err != nil {
		t.Fatal(err)
	}
	img := buildplan.Image{Reference: "shop/api:1", Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		Config: ocispec.ImageConfig{User: "1000:1000", Entrypoint: []string{"java", "-jar", "/app/app.jar"}}}
	for name, f := range map[string]buildplan.AgentFile{
		"self symlink": {Path: "jennifer.jar", Mode: fs.ModeSymlink | 0o777, Link: "jennifer.jar"},
		"folder":       {Path: "jennifer.jar", Mode: fs.ModeDir | 0o755},
	} {
		agent := buildplan.Agent{Source: "agent.java", Files: []buildplan.AgentFile{f}}
		_, err := buildplan.Make(img, prof, agent, buildplan.Options{ServerAddress: "10.0.0.5"})
		if err == nil || !strings.Contains(err.Error(), "jennifer.jar is a") || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%s: err = %v, want a refusal naming jennifer.jar", name, err)
		}
	}
}

// The seal covers how a container runs and the layer structure; not its
// own label, nor the order of map keys.
func TestSealCoversConfigAndLayers(t *testing.T) {
	cfg := ocispec.ImageConfig{Env: []string{"A=1"}, Entrypoint: []string{"java"}, Labels: map[string]string{"x": "y"},
		ExposedPorts: map[string]struct{}{"8080/tcp": {}, "9090/tcp": {}}}
	base := []string{"sha256:b1"}
	seal := buildplan.NewSealedConfig(cfg, nil, nil, nil, base).Seal()
	withLabel := cfg
	withLabel.Labels = map[string]string{"x": "y", buildplan.LabelConfigDigest: seal}
	if got := buildplan.NewSealedConfig(withLabel, nil, nil, nil, base).Seal(); got != seal {
		t.Errorf("the seal depends on its own label")
	}
	for name, s := range map[string]buildplan.SealedConfig{
		"ENV added":          buildplan.NewSealedConfig(ocispec.ImageConfig{Env: []string{"A=1", "B=2"}, Entrypoint: cfg.Entrypoint, Labels: cfg.Labels, ExposedPorts: cfg.ExposedPorts}, nil, nil, nil, base),
		"a layer on top":     buildplan.NewSealedConfig(cfg, nil, nil, nil, []string{"sha256:b1", "sha256:agent"}),
		"HEALTHCHECK added":  buildplan.NewSealedConfig(cfg, buildplan.HealthcheckFields([]string{"CMD", "true"}, 0, 0, 0, 0), nil, nil, base),
		"another base below": buildplan.NewSealedConfig(cfg, nil, nil, nil, []string{"sha256:b2"}),
	} {
		if s.Seal() == seal {
			t.Errorf("%s: same seal", name)
		}
	}
}
