package testenv

import (
	"context"
	"strings"
	"testing"
)

// The current dockerd builds from go.mod's github.com/docker/docker and
// runs beside Debian's 20.10 with overlay2 (graphdriver) storage, the
// storage whose builder has no MergeOp; each reports its own version.
func TestDockerdCurrent(t *testing.T) {
	old, cur := Dockerd(t), DockerdCurrent(t)
	if old == cur {
		t.Fatalf("one daemon for both: %s", cur)
	}
	want, err := pinnedModuleVersion(dockerModule)
	if err != nil {
		t.Fatal(err)
	}
	want = strings.TrimSuffix(strings.TrimPrefix(want, "v"), "+incompatible")
	info, err := DockerClient(t, cur).Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.ServerVersion != want || info.Driver != "overlay2" {
		t.Errorf("current dockerd: version %s, storage %s; want %s on overlay2", info.ServerVersion, info.Driver, want)
	}
	oinfo, err := DockerClient(t, old).Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(oinfo.ServerVersion, "20.10.") || oinfo.Driver != "overlay2" {
		t.Errorf("Debian's dockerd: version %s, storage %s; want 20.10 on overlay2", oinfo.ServerVersion, oinfo.Driver)
	}
}

// Buildx gives a docker CLI whose buildx plugin is the pinned release and
// whose default builder is the docker driver on the test dockerd;
// RemoteBuilder adds the remote driver on the test buildkitd.
func TestBuildx(t *testing.T) {
	d := Buildx(t)
	if v := d.MustRun(t, "buildx", "version"); !strings.Contains(v, buildxModule) {
		t.Errorf("buildx version: %q", v)
	}
	ls := d.MustRun(t, "buildx", "inspect", "default")
	if !strings.Contains(ls, "Driver:") || !strings.Contains(ls, "docker") || !strings.Contains(ls, "v0.8") {
		t.Errorf("the default builder is not the docker driver on dockerd 20.10 (BuildKit 0.8):\n%s", ls)
	}
	name := d.RemoteBuilder(t)
	ri := d.MustRun(t, "buildx", "inspect", name)
	if !strings.Contains(ri, "remote") || !strings.Contains(ri, "Status:") || !strings.Contains(ri, "running") {
		t.Errorf("the remote builder:\n%s", ri)
	}
}
