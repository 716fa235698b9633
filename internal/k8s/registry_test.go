package k8s

import (
	"bytes"
	"context"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/agent"
	"github.com/jbuild-dev/jbuild/internal/agentlayer"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/wrap"
	"github.com/jbuild-dev/jbuild/templates"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func openStore(t *testing.T, ref string) transport.Store {
	t.Helper()
	r, err := transport.Parse(ref)
	if err != nil {
		t.Fatal(err)
	}
	st, err := transport.Open(r, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func registryLookup(t *testing.T) Lookup {
	return func(ctx context.Context, ref string) (*Image, error) {
		return Inspect(ctx, openStore(t, ref))
	}
}

// A Java image wrapped into the loopback registry: jbuild k8s renders from
// its config (user, port, volumes, digest), the result decodes strictly and
// lints clean against the same registry, and a careless manifest for the
// same image (and its unwrapped base) gets the errors it deserves.
func TestRegistryRenderAndLint(t *testing.T) {
	reg := testenv.Registry(t)
	ctx := context.Background()
	base, err := testenv.RandomImage(testenv.Spec{Layers: 1, LayerSize: 1024, Config: func(cf *v1.ConfigFile) {
		cf.Config.Env = []string{"PATH=/usr/bin:/bin", "JAVA_HOME=" + testenv.JavaLikeHome, "JAVA_TOOL_OPTIONS=-Xmx512m"}
		cf.Config.Entrypoint = []string{"java", "-jar", "/app/app.jar"}
		cf.Config.User = "1000:1000"
		cf.Config.ExposedPorts = map[string]struct{}{"8080/tcp": {}}
	}})
	if err != nil {
		t.Fatal(err)
	}
	src, dst := reg+"/k8s/app:1", reg+"/k8s/app:1-jennifer"
	testenv.PushImage(t, src, base)
	ag, err := agent.Open(ctx, testenv.SampleJavaAgent(), agent.Options{BundleRoot: []string{"agent.java"}, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := wrap.Wrap(ctx, openStore(t, src), openStore(t, dst), wrap.Options{
		Agent: ag,
		Plan:  buildplan.Options{ServerAddress: "10.0.0.5", ServerPort: 5000, DomainID: 1000, JbuildVersion: "test"},
		Layer: agentlayer.Options{CacheDir: t.TempDir()},
	})
	if err != nil {
		t.Fatal(err)
	}

	img, err := Inspect(ctx, openStore(t, dst))
	if err != nil {
		t.Fatal(err)
	}
	if !img.Monitored() || img.Profile == nil || img.Profile.Name != "jennifer-java" || *img.UID != 1000 || *img.GID != 1000 ||
		len(img.Ports) != 1 || img.Ports[0].Number != 8080 || img.Digest != res.TargetDigest {
		t.Fatalf("inspected %+v (uid %v): want a jennifer-java image, user 1000:1000, port 8080, digest %s", img, img.UID, res.TargetDigest)
	}
	if v := img.Volumes(); len(v) != 1 || v[0] != "/opt/jennifer/agent.java/logs" {
		t.Errorf("volumes %v, want the logs dir from io.jbuild.volumes", v)
	}

	o := baseOptions(img)
	o.Image = Pinned(dst, img.Digest)
	m, err := Render(img, o)
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.Marshal("test")
	if err != nil {
		t.Fatal(err)
	}
	d := decodeStrict(t, data)
	checkRestricted(t, d, img, o)
	checkPodSecurity(t, d.dep.Spec.Template)

	all, err := templates.Profiles()
	if err != nil {
		t.Fatal(err)
	}
	ws, err := ReadWorkloads("rendered.yaml", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	r := Lint(ctx, ws, LintOptions{Lookup: registryLookup(t), Profiles: all})
	if len(r.Findings) != 0 || r.Checked != 1 {
		var b strings.Builder
		r.WriteText(&b)
		t.Errorf("the rendered manifests lint with findings:\n%s", b.String())
	}

	careless := `apiVersion: apps/v1
kind: Deployment
metadata: {name: careless}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec:
      securityContext: {runAsUser: 2000, runAsGroup: 2000}
      containers:
        - name: app
          image: ` + dst + `
          env: [{name: JAVA_TOOL_OPTIONS, value: "-Xmx1g"}]
        - name: base
          image: ` + src + `
`
	ws, err = ReadWorkloads("careless.yaml", strings.NewReader(careless))
	if err != nil {
		t.Fatal(err)
	}
	r = Lint(ctx, ws, LintOptions{Lookup: registryLookup(t), Profiles: all})
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.Severity.String()+" "+f.Rule+" "+f.Container)
	}
	want := "error env-override app,error user app,error not-monitored base"
	if strings.Join(got, ",") != want {
		var b strings.Builder
		r.WriteText(&b)
		t.Errorf("findings %q, want %q:\n%s", strings.Join(got, ","), want, b.String())
	}
	for _, f := range r.Findings {
		if f.Rule == RuleEnvOverride && !strings.Contains(f.Fix, "-Xmx512m -javaagent:") {
			t.Errorf("env fix %q: want the image's own value (-Xmx512m -javaagent:...) plus -Xmx1g", f.Fix)
		}
		if f.Rule == RuleUser && !strings.Contains(f.Message, "/opt/jennifer/agent.java/logs (1000:1000 0775)") {
			t.Errorf("user finding %q: want the logs dir with its owner and mode, read from the image's layers", f.Message)
		}
	}
}
