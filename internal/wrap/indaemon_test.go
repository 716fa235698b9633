package wrap

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/jbuild-dev/jbuild/buildplan"
	"github.com/jbuild-dev/jbuild/internal/testing/sampleimage"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
	"github.com/jbuild-dev/jbuild/internal/transport"
)

// TestWrapInDaemon wraps one base through a registry and inside the
// Docker daemon (dockerd 20.10) and compares: the same agent and settings
// layers (diff IDs, so every file, owner and mode), the same env and
// labels; then a rerun writes nothing, no container is left behind, an
// agent upgrade replaces the agent layer in place and unwrap gives back
// the base's image ID.
func TestWrapInDaemon(t *testing.T) {
	testWrapInDaemon(t, testenv.Dockerd(t))
}

// TestWrapInDaemonDockerdCurrent is the same on the dockerd 28.5 testenv
// builds.
func TestWrapInDaemonDockerdCurrent(t *testing.T) {
	testWrapInDaemon(t, testenv.DockerdCurrent(t))
}

// daemonBase is the sample Java image (USER by name, resolved from
// /etc/passwd) with an ENV-only history entry on top, as a Dockerfile
// leaves it.
func daemonBase(t testing.TB) v1.Image {
	t.Helper()
	img, err := sampleimage.JavaApp()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.Env = append(cf.Config.Env, "APP_MODE=prod")
	cf.History = append(cf.History, v1.History{Created: v1.Time{Time: sampleimage.Created}, CreatedBy: "ENV APP_MODE=prod", Comment: "buildkit.dockerfile.v0", EmptyLayer: true})
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func testWrapInDaemon(t *testing.T, host string) {
	ctx := context.Background()
	reg := testenv.Registry(t)
	base := daemonBase(t)
	baseID, _ := base.ConfigName()
	testenv.LoadImage(t, host, "indaemon/app:1", base)
	testenv.PushImage(t, reg+"/indaemon/app:1", base)
	daemon := transport.Options{Docker: transport.DockerOptions{Host: host}}
	agentDir := sampleAgent(t)

	// The registry path, for comparison.
	if _, err := Wrap(ctx, store(t, reg+"/indaemon/app:1"), store(t, reg+"/indaemon/app:1-jennifer"), javaOptions(t, agentDir)); err != nil {
		t.Fatal(err)
	}
	want := getImage(t, reg+"/indaemon/app:1-jennifer")

	var notes []string
	opts := javaOptions(t, agentDir)
	opts.Notef = func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }
	res, err := Wrap(ctx, storeWith(t, "docker-daemon:indaemon/app:1", daemon), storeWith(t, "docker-daemon:indaemon/app:jb", daemon), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		t.Logf("note: %s", n)
		if strings.Contains(n, "exporting the image") {
			t.Errorf("the wrap fell back to docker save: %s", n)
		}
	}
	cli := testenv.DockerClient(t, host)
	info, err := cli.ImageInspect(ctx, "indaemon/app:jb")
	if err != nil {
		t.Fatal(err)
	}
	if res.TargetDigest != info.ID {
		t.Errorf("reported digest %s, the daemon's image ID is %s", res.TargetDigest, info.ID)
	}
	if res.BaseDigest != baseID.String() {
		t.Errorf("base digest %s, want the base's image ID %s", res.BaseDigest, baseID)
	}
	// Read the result back whole (docker save), to compare with the
	// registry's.
	ga, err := storeWith(t, "docker-daemon:indaemon/app:jb", daemon).Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := ga.Image
	compareWraps(t, want, got, base)
	// What reads the daemon through docker save (jbuild verify) finds the
	// recorded base by its image ID too.
	ba, err := storeWith(t, "docker-daemon:indaemon/app:jb", daemon).GetDigest(ctx, baseID)
	if err != nil {
		t.Fatalf("the base by image ID: %v", err)
	}
	if c, _ := ba.Image.ConfigName(); c != baseID {
		t.Errorf("GetDigest(%s) read %s", baseID, c)
	}

	// A rerun with nothing to change writes nothing.
	res, err = Wrap(ctx, storeWith(t, "docker-daemon:indaemon/app:1", daemon), storeWith(t, "docker-daemon:indaemon/app:jb", daemon), javaOptions(t, agentDir))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Unchanged {
		t.Errorf("rerun: not reported unchanged (target %s)", res.TargetDigest)
	}
	left, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", transport.LabelTemporary))})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("%d containers left behind: %v", len(left), left[0].ID)
	}

	// An agent upgrade in place: the base stays below, one agent layer.
	upOpts := javaOptions(t, copyAgent(t, map[string]string{"jennifer.agent.java-5.7.0.jar": "new"}))
	res, err = Wrap(ctx, storeWith(t, "docker-daemon:indaemon/app:jb", daemon), storeWith(t, "docker-daemon:indaemon/app:jb", daemon), upOpts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Upgrade || res.BaseDigest != baseID.String() {
		t.Errorf("upgrade: upgrade=%v base %s, want the base %s", res.Upgrade, res.BaseDigest, baseID)
	}
	up, err := cli.ImageInspect(ctx, "indaemon/app:jb")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(up.RootFS.Layers); n != len(info.RootFS.Layers) {
		t.Errorf("upgraded image has %d layers, want %d (the agent layer replaced, not stacked)", n, len(info.RootFS.Layers))
	}
	if up.RootFS.Layers[len(up.RootFS.Layers)-2] == info.RootFS.Layers[len(info.RootFS.Layers)-2] {
		t.Errorf("upgrade kept the old agent layer")
	}

	// unwrap: the base, by image ID, even after its tag moved on.
	if err := cli.ImageTag(ctx, "indaemon/app:jb", "indaemon/app:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := Unwrap(ctx, storeWith(t, "docker-daemon:indaemon/app:jb", daemon), storeWith(t, "docker-daemon:indaemon/app:orig", daemon), Options{Stores: daemon}); err != nil {
		t.Fatal(err)
	}
	orig, err := cli.ImageInspect(ctx, "indaemon/app:orig")
	if err != nil {
		t.Fatal(err)
	}
	if orig.ID != baseID.String() {
		t.Errorf("unwrapped image ID %s, want the base's %s", orig.ID, baseID)
	}
}

// compareWraps checks that got (wrapped in the daemon) has the registry
// wrap's jbuild layers, env and labels, on the base's layers.
func compareWraps(t *testing.T, want, got, base v1.Image) {
	t.Helper()
	wl, _ := want.Layers()
	gl, _ := got.Layers()
	bl, _ := base.Layers()
	if len(gl) != len(bl)+2 || len(wl) != len(gl) {
		t.Fatalf("layers: daemon %d, registry %d, base %d", len(gl), len(wl), len(bl))
	}
	for i := range gl {
		wd, _ := wl[i].DiffID()
		gd, _ := gl[i].DiffID()
		if wd != gd {
			t.Errorf("layer %d: diff ID %s in the daemon, %s through the registry", i, gd, wd)
		}
	}
	// The files of jbuild's layers, entry by entry (the diff IDs above
	// say the same; this names what differs).
	for _, i := range []int{len(gl) - 2, len(gl) - 1} {
		wf, gf := layerFiles(t, wl[i]), layerFiles(t, gl[i])
		if len(wf) == 0 || len(wf) != len(gf) {
			t.Errorf("layer %d: %d entries in the daemon, %d through the registry", i, len(gf), len(wf))
		}
		for name, w := range wf {
			g := gf[name]
			if g == nil || g.Uid != w.Uid || g.Gid != w.Gid || g.Mode != w.Mode || g.Typeflag != w.Typeflag || g.Linkname != w.Linkname || g.Size != w.Size {
				t.Errorf("layer %d: %s: daemon %+v, registry %+v", i, name, g, w)
			}
		}
	}
	wcf, _ := want.ConfigFile()
	gcf, _ := got.ConfigFile()
	if strings.Join(wcf.Config.Env, "\n") != strings.Join(gcf.Config.Env, "\n") {
		t.Errorf("env:\ndaemon   %q\nregistry %q", gcf.Config.Env, wcf.Config.Env)
	}
	skip := map[string]bool{buildplan.LabelBaseName: true, buildplan.LabelBaseDigest: true, buildplan.LabelConfigDigest: true}
	for k, v := range wcf.Config.Labels {
		if !skip[k] && gcf.Config.Labels[k] != v {
			t.Errorf("label %s: daemon %q, registry %q", k, gcf.Config.Labels[k], v)
		}
	}
	if len(gcf.Config.Labels) != len(wcf.Config.Labels) {
		t.Errorf("labels: daemon %d, registry %d", len(gcf.Config.Labels), len(wcf.Config.Labels))
	}
	if gcf.Config.User != sampleimage.AppUser || gcf.Config.WorkingDir != wcf.Config.WorkingDir || strings.Join(gcf.Config.Entrypoint, " ") != strings.Join(wcf.Config.Entrypoint, " ") {
		t.Errorf("config: user %q workdir %q entrypoint %q", gcf.Config.User, gcf.Config.WorkingDir, gcf.Config.Entrypoint)
	}
	if n, m := len(gcf.History), len(wcf.History); n != m {
		t.Errorf("history: %d entries in the daemon, %d through the registry", n, m)
	}
	if !gcf.Created.Time.Equal(wcf.Created.Time) {
		t.Errorf("created %s in the daemon, %s through the registry", gcf.Created.Time.Format(time.RFC3339Nano), wcf.Created.Time.Format(time.RFC3339Nano))
	}
}
