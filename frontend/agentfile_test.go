package frontend

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/imagefs"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/transport"
	"github.com/jbuild-dev/jbuild/internal/verify"
	"github.com/jbuild-dev/jbuild/internal/wrap"
)

// A single-file agent through the jennifer-agent named context, as
// `jbuild wrap --agent ./opentelemetry-javaagent-2.33.1.jar` takes it: a
// folder holding the jar as the registry serves it, or an http(s) URL of
// it (BuildKit fetches one file). The built-in opentelemetry-java profile
// is picked by the file's name; the jar is installed under the name the
// profile activates, the version comes from the name it was given as, and
// the profile has no settings, so the agent layer is the only layer added;
// its parameters come from JENNIFER_PARAM_ build args: unwrap gives back
// the plain build, verify passes. With MergeOp and without.
func TestSingleFileAgentContext(t *testing.T) {
	jar := []byte("PK\x03\x04 a stand-in for opentelemetry-javaagent 2.33.1")
	dir := t.TempDir()
	const served = "opentelemetry-javaagent-2.33.1.jar"
	if err := os.WriteFile(filepath.Join(dir, served), jar, 0o644); err != nil {
		t.Fatal(err)
	}
	// The URL form, on loopback (the test buildkitd shares the network).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	url := "http://" + ln.Addr().String() + "/" + served

	reg := testenv.RealRegistry(t)
	base := reg + "/fe/single-file/javabase:1"
	testenv.PushJavaLike(t, base)
	df := "FROM " + base + "\nENV JAVA_TOOL_OPTIONS=\"-Xss1m\"\nCOPY app.jar /app/app.jar\n"
	files := map[string]string{"app.jar": "not really a jar"}
	epoch := "1700000000"
	plain := reg + "/fe/single-file/app:plain"
	want := build{dockerfile: df, files: files, push: plain, args: map[string]string{ArgDisable: "1", "SOURCE_DATE_EPOCH": epoch}}.mustRun(t).digest
	plainLayers, _ := image(t, plain).Layers()

	for _, tc := range []struct {
		name      string
		b         build
		noMergeOp bool
	}{
		{"folder", build{agentDir: dir}, false},
		{"folder, no MergeOp", build{agentDir: dir}, true},
		{"url", build{attrs: map[string]string{"context:" + AgentContext: url}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			out := reg + "/fe/single-file/app:" + strings.NewReplacer(" ", "-", ",", "").Replace(tc.name)
			b := tc.b
			b.dockerfile, b.files, b.push, b.noMergeOp = df, files, out, tc.noMergeOp
			// The profile's parameters as build args, as --param sets them.
			b.args = map[string]string{"SOURCE_DATE_EPOCH": epoch,
				ArgParamPrefix + "serviceName": "orders", ArgParamPrefix + "endpoint": "http://otel-collector.observability:4318"}
			b.mustRun(t)

			img := image(t, out)
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			l := cf.Config.Labels
			if l[buildplan.LabelProfile] != "opentelemetry-java" || l[buildplan.LabelAgentVersion] != "2.33.1" {
				t.Errorf("profile %q version %q, want opentelemetry-java 2.33.1 (from the file's name)", l[buildplan.LabelProfile], l[buildplan.LabelAgentVersion])
			}
			if jto := envOf(cf, "JAVA_TOOL_OPTIONS"); jto != "-Xss1m -javaagent:/opt/opentelemetry/opentelemetry-javaagent.jar" {
				t.Errorf("JAVA_TOOL_OPTIONS=%q", jto)
			}
			if sn, ep := envOf(cf, "OTEL_SERVICE_NAME"), envOf(cf, "OTEL_EXPORTER_OTLP_ENDPOINT"); sn != "orders" || ep != "http://otel-collector.observability:4318" {
				t.Errorf("OTEL_SERVICE_NAME=%q OTEL_EXPORTER_OTLP_ENDPOINT=%q, want the JENNIFER_PARAM_ build args' values", sn, ep)
			}
			// Recorded, so an agent upgrade by `jbuild wrap --agent` carries them.
			if rec, err := buildplan.ParseRecorded(l); err != nil || rec == nil || rec.Params["serviceName"] != "orders" {
				t.Errorf("recorded settings %+v, %v; want serviceName=orders", rec, err)
			}
			layers, _ := img.Layers()
			if len(layers) != len(plainLayers)+1 {
				t.Fatalf("%d layers over the plain build's %d, want the agent layer alone (the profile has no settings)", len(layers), len(plainLayers))
			}
			r, err := buildplan.ParseRestore(l)
			if err != nil || r == nil || r.Layers != 1 {
				t.Errorf("restore record %+v, %v; want 1 layer", r, err)
			}
			fsys := imagefs.New(img, out, []string{"/opt/opentelemetry/*"})
			got, err := fsys.ReadFile("/opt/opentelemetry/opentelemetry-javaagent.jar", 1<<20)
			if err != nil || string(got) != string(jar) {
				t.Errorf("the installed jar: %q, %v", got, err)
			}
			if _, err := fsys.Lookup("/opt/opentelemetry/" + served); err == nil {
				t.Errorf("the jar is also installed under the name it was served as")
			}

			back := out + "-back"
			if _, err := wrap.Unwrap(ctx, openStore(t, out), openStore(t, back), wrap.Options{}); err != nil {
				t.Fatalf("unwrap: %v", err)
			}
			if d, _ := image(t, back).Digest(); d.String() != want {
				t.Errorf("unwrap gave %s, the plain build is %s", d, want)
			}
			reports, err := verify.Store(ctx, openStore(t, out), transport.Options{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range reports {
				for _, c := range r.Checks {
					if !c.OK {
						t.Errorf("verify %s: %s", c.Name, c.Detail)
					}
				}
			}
		})
	}
}
