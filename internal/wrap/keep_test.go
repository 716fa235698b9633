package wrap

import (
	"archive/tar"
	"context"
	"fmt"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/imagefs"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

func dirHeader(name string, mode int64, uid int) *tar.Header {
	return &tar.Header{Name: name + "/", Typeflag: tar.TypeDir, Mode: mode, Uid: uid, Gid: uid}
}

// mergedFS is the image's root filesystem as a runtime shows it.
func mergedFS(t testing.TB, img v1.Image) *imagefs.FS {
	return imagefs.New(img, "wrapped image", nil)
}

func pushJava(t testing.TB, ref string, base ...v1.Layer) v1.Hash {
	img, err := testenv.RandomImage(testenv.Spec{Layers: 1, LayerSize: 1 << 10, Base: base, Config: javaConfig("1000:1000")})
	if err != nil {
		t.Fatal(err)
	}
	return testenv.PushImage(t, ref, img)
}

// The base's own folders above the install dir keep their owner and mode,
// and a symlinked /opt stays a symlink with the agent where it points.
func TestWrapKeepsBaseFolders(t *testing.T) {
	reg := testenv.Registry(t)
	ctx := context.Background()

	pushJava(t, reg+"/keep/owned:1", testenv.HeaderLayer(t, dirHeader("opt", 0o755, 0), dirHeader("opt/jennifer", 0o700, 1000)))
	if _, err := Wrap(ctx, store(t, reg+"/keep/owned:1"), store(t, reg+"/keep/owned:1-jennifer"), javaOptions(t, sampleAgent(t))); err != nil {
		t.Fatal(err)
	}
	fsys := mergedFS(t, getImage(t, reg+"/keep/owned:1-jennifer"))
	st, err := fsys.Lookup("/opt/jennifer")
	if err != nil || !st.Mode.IsDir() || st.Mode.Perm() != 0o700 || st.UID != 1000 || st.GID != 1000 {
		t.Errorf("/opt/jennifer after the wrap = %+v, %v; want the base's folder, 0700 owned by 1000:1000", st, err)
	}
	if _, err := fsys.Lookup("/opt/jennifer/agent.java/jennifer.jar"); err != nil {
		t.Errorf("agent missing: %v", err)
	}

	pushJava(t, reg+"/keep/linked:1", testenv.HeaderLayer(t,
		dirHeader("srv", 0o755, 0), dirHeader("srv/app", 0o755, 1000),
		&tar.Header{Name: "srv/app/data.txt", Typeflag: tar.TypeReg, Mode: 0o644, Uid: 1000, Gid: 1000},
		&tar.Header{Name: "opt", Typeflag: tar.TypeSymlink, Linkname: "srv", Mode: 0o777}))
	res, err := Wrap(ctx, store(t, reg+"/keep/linked:1"), store(t, reg+"/keep/linked:1-jennifer"), javaOptions(t, sampleAgent(t)))
	if err != nil {
		t.Fatal(err)
	}
	fsys = mergedFS(t, getImage(t, reg+"/keep/linked:1-jennifer"))
	st, err = fsys.Lookup("/opt")
	if err != nil || st.Link != "srv" {
		t.Errorf("/opt after the wrap = %+v, %v; want the base's symlink to srv", st, err)
	}
	for _, p := range []string{"/opt/app/data.txt", "/opt/jennifer/agent.java/jennifer.jar", "/srv/jennifer/agent.java/jennifer.jar"} {
		if _, err := fsys.Stat(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	plan := res.Platforms[0].Plan
	if plan.InstallDir != "/srv/jennifer/agent.java" || !strings.Contains(strings.Join(plan.Warnings, " "), "/opt is a symlink to /srv") {
		t.Errorf("plan: install dir %s, warnings %q", plan.InstallDir, plan.Warnings)
	}
}

// An image built FROM a monitored image (a layer of its own on top) is not
// jbuild's output: wrapping it keeps that layer, writes to its own target,
// and never adds the agent flag twice. Labels copied onto a foreign image
// are not enough either.
func TestWrapDerivedImageIsANewSource(t *testing.T) {
	reg := testenv.Registry(t)
	ctx := context.Background()
	pushJava(t, reg+"/derived/api:1.2")
	if _, err := Wrap(ctx, store(t, reg+"/derived/api:1.2"), store(t, reg+"/derived/api:1.2-jennifer"), javaOptions(t, sampleAgent(t))); err != nil {
		t.Fatal(err)
	}
	monitored := getImage(t, reg+"/derived/api:1.2-jennifer")
	extra := testenv.HeaderLayer(t, &tar.Header{Name: "app/extra.jar", Typeflag: tar.TypeReg, Mode: 0o644})
	derived, err := mutate.Append(monitored, mutate.Addendum{Layer: extra, History: v1.History{CreatedBy: "COPY extra.jar /app/"}})
	if err != nil {
		t.Fatal(err)
	}
	derivedDigest := testenv.PushImage(t, reg+"/derived/app:1", derived)

	// Faked labels: jbuild's labels on an image that is nothing of the kind.
	mcf, _ := monitored.ConfigFile()
	plain, _ := testenv.RandomImage(testenv.Spec{Layers: 1, LayerSize: 1 << 10, Config: javaConfig("1000:1000")})
	pcf, _ := plain.ConfigFile()
	pcf = pcf.DeepCopy()
	pcf.Config.Labels = mcf.Config.Labels
	faked, _ := mutate.ConfigFile(plain, pcf)
	testenv.PushImage(t, reg+"/derived/faked:1", faked)

	for _, name := range []string{"app:1", "faked:1"} {
		src := reg + "/derived/" + name
		ok, err := IsOutput(ctx, store(t, src))
		if err != nil || ok {
			t.Errorf("%s: IsOutput = %v, %v; want false", name, ok, err)
		}
		if _, err := Wrap(ctx, store(t, src), store(t, src), javaOptions(t, sampleAgent(t))); err == nil || !strings.Contains(err.Error(), "is the source") {
			t.Errorf("%s: wrap onto itself: %v; want a refusal", name, err)
		}
		var notes []string
		opts := javaOptions(t, sampleAgent(t))
		opts.Notef = func(f string, a ...any) { notes = append(notes, f) }
		res, err := Wrap(ctx, store(t, src), store(t, src+"-jennifer"), opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Upgrade || !strings.Contains(strings.Join(notes, "\n"), "not jbuild's output") {
			t.Errorf("%s: upgrade=%v notes %q; want a new source, said so", name, res.Upgrade, notes)
		}
		out := getImage(t, src+"-jennifer")
		srcImg := getImage(t, src)
		srcLayers, _ := srcImg.Layers()
		outLayers, _ := out.Layers()
		if len(outLayers) != len(srcLayers)+2 {
			t.Fatalf("%s: %d layers from %d; want every source layer plus two", name, len(outLayers), len(srcLayers))
		}
		for i, l := range srcLayers {
			a, _ := l.Digest()
			b, _ := outLayers[i].Digest()
			if a != b {
				t.Errorf("%s: layer %d changed", name, i)
			}
		}
		cf, _ := out.ConfigFile()
		if jto, _ := envOf(cf, "JAVA_TOOL_OPTIONS"); strings.Count(jto, "-javaagent:") != 1 {
			t.Errorf("%s: JAVA_TOOL_OPTIONS = %q, want one -javaagent", name, jto)
		}
	}
	if _, err := mergedFS(t, getImage(t, reg+"/derived/app:1-jennifer")).Stat("/app/extra.jar"); err != nil {
		t.Errorf("the derived image's own file is gone: %v", err)
	}
	if d, _ := getImage(t, reg+"/derived/app:1").Digest(); d != derivedDigest {
		t.Errorf("the source tag moved: %s, was %s", d, derivedDigest)
	}
	if _, err := Unwrap(ctx, store(t, reg+"/derived/app:1"), store(t, reg+"/derived/app:1-unwrapped"), Options{}); err == nil || !strings.Contains(err.Error(), "not jbuild's output") {
		t.Errorf("unwrap of a derived image: %v; want a refusal", err)
	}
}

// An agent upgrade keeps the settings recorded in the image: a new bundle
// with its own server address and port does not replace them, and a flag
// given now does.
func TestWrapUpgradeCarriesSettings(t *testing.T) {
	reg := testenv.Registry(t)
	ctx := context.Background()
	pushJava(t, reg+"/upgrade/api:1.2")
	first := javaOptions(t, sampleAgent(t))
	first.Plan.ServerAddress, first.Plan.ServerPort, first.Plan.DomainID = "10.9.9.9", 7000, 2000
	if _, err := Wrap(ctx, store(t, reg+"/upgrade/api:1.2"), store(t, reg+"/upgrade/api:1.2-jennifer"), first); err != nil {
		t.Fatal(err)
	}
	newAgent := copyAgent(t, map[string]string{
		"conf/jennifer.conf":            "server_address = 192.0.2.1\nserver_port = 5000\ndomain_id = 1000\n",
		"jennifer.agent.java-5.7.0.jar": "new",
	})
	up := javaOptions(t, newAgent)
	up.Plan = buildplan.Options{JbuildVersion: "test", DomainID: 3000}
	var notes []string
	up.Notef = func(f string, a ...any) { notes = append(notes, strings.TrimSpace(fmt.Sprintf(f, a...))) }
	target := reg + "/upgrade/api:1.2-jennifer"
	res, err := Wrap(ctx, store(t, target), store(t, target), up)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Upgrade {
		t.Fatal("not taken for an upgrade")
	}
	out := getImage(t, target)
	layers, _ := out.Layers()
	conf := testenv.LayerFile(t, layers[len(layers)-1], "opt/jennifer/agent.java/conf/jennifer.conf")
	for _, want := range []string{"server_address = 10.9.9.9", "server_port = 7000", "domain_id = 3000"} {
		if !strings.Contains(conf, want) {
			t.Errorf("upgraded config lacks %q:\n%s", want, conf)
		}
	}
	if got := strings.Join(notes, "\n"); !strings.Contains(got, "carried forward") || !strings.Contains(got, "server address 10.9.9.9") {
		t.Errorf("notes %q do not say what carried forward", got)
	}
	base, _ := getImage(t, reg+"/upgrade/api:1.2").Layers()
	if len(layers) != len(base)+2 {
		t.Errorf("upgrade stacked layers: %d from a base of %d", len(layers), len(base))
	}
}
