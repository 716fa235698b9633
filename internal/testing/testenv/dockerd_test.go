package testenv

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDockerdLoadAndContainerdImport(t *testing.T) {
	host := Dockerd(t)
	if !strings.HasPrefix(host, "unix:///tmp/jbuild-dockerd-") {
		t.Errorf("DOCKER_HOST = %s, want a socket of our own", host)
	}
	img, err := RandomImage(Spec{Layers: 1, LayerSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	LoadImage(t, host, "testenv/app:1", img)
	cli := DockerClient(t, host)
	info, err := cli.ImageInspect(context.Background(), "testenv/app:1")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := img.ConfigName()
	if info.ID != cfg.String() {
		t.Errorf("image ID %s, want the config digest %s", info.ID, cfg)
	}

	addr := Containerd(t)
	if want := filepath.Join(filepath.Dir(strings.TrimPrefix(host, "unix://")), "exec", "containerd", "containerd.sock"); addr != want {
		t.Errorf("containerd socket %s is not under dockerd's exec root", addr)
	}
	ImportContainerd(t, addr, "k8s.io", "docker.io/testenv/app:1", img)
	cc := ContainerdClient(t, addr, "k8s.io")
	ci, err := cc.GetImage(context.Background(), "docker.io/testenv/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := ci.IsUnpacked(context.Background(), "overlayfs"); err != nil || !ok {
		t.Errorf("IsUnpacked = %v, %v", ok, err)
	}
}

// A second StartDockerd runs beside the shared one and its stop leaves
// nothing behind.
func TestStartDockerdStop(t *testing.T) {
	RequireIntegration(t)
	host, addr, stop, err := StartDockerd("")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(strings.TrimPrefix(host, "unix://"))
	if _, err := os.Stat(addr); err != nil {
		t.Fatal(err)
	}
	stop()
	stop() // safe twice
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after stop: %v", dir, err)
	}
	if m := mountsUnder(dir); len(m) > 0 {
		t.Errorf("mounts left under %s: %v", dir, m)
	}
}
