package e2e

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/jbuild-dev/jbuild/internal/runcheck"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// probeScript stands in for an app with an agent, on busybox: the "agent"
// reads its server port from /app/agent.conf, reports who it runs as and
// what it can write, then the "app" serves HTTP on APP_PORT from a volume.
const probeScript = `
w=no; touch /data/x 2>/dev/null && w=yes
r=no; touch /rootfile 2>/dev/null && r=yes
c=no; echo "inst_id = 7" >> /app/agent.conf 2>/dev/null && c=yes
port=$(sed -n 's/^server_port = //p' /app/agent.conf)
echo "JENNIFER domain_id=$DOMAIN_ID uid=$(id -u) gid=$(id -g) volume=$w root=$r config=$c" | nc 127.0.0.1 "$port"
echo ok > /data/index.html
exec httpd -f -p "127.0.0.1:$APP_PORT" -h /data
`

// busyboxWith is the busybox image plus files (see filesLayer) and a
// config edit.
func busyboxWith(t testing.TB, files map[string][]byte, edit func(*v1.Config)) v1.Image {
	t.Helper()
	base, err := testenv.BusyboxImage(v1.Platform{OS: "linux", Architecture: runtime.GOARCH})
	if err != nil {
		t.Fatal(err)
	}
	layer, err := filesLayer(files)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	edit(&cf.Config)
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return img
}

// busyboxApp is the busybox image with /app/run.sh (script) and
// /app/agent.conf, running as app (1000) by name.
func busyboxApp(t testing.TB, script string) v1.Image {
	return busyboxWith(t, map[string][]byte{"app/run.sh": []byte(script), "app/agent.conf": []byte("server_port = 5000\n")}, func(c *v1.Config) {
		c.Cmd = []string{"sh", "/app/run.sh"}
		c.User = "app"
	})
}

// Run in both engines: user override, read-only root, a tmpfs volume owned
// by the user, the config file replaced (and writable), env overrides, the
// first bytes sent, the probe answered; and a container that exits at once
// is reported as exited, not connected, without waiting for WaitFor.
func TestRuncheck(t *testing.T) {
	requireHeavy(t)
	engines(t)
	img := busyboxApp(t, probeScript)
	quit := busyboxApp(t, "echo leaving; exit 3\n")
	for _, engine := range []string{runcheck.EngineDocker, runcheck.EngineContainerd} {
		load(t, engine, daemonRef("runcheck", "probe"), img)
		load(t, engine, daemonRef("runcheck", "quit"), quit)
	}
	for _, engine := range []string{runcheck.EngineDocker, runcheck.EngineContainerd} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			host, ctr := engines(t)
			ln := listen(t)
			port := freePort(t)
			opts := runcheck.Options{
				Engine: engine, DockerHost: host, ContainerdAddress: ctr,
				Image:        daemonRef("runcheck", "probe"),
				User:         "1000:1000",
				ReadOnlyRoot: true,
				Volumes:      []string{"/data"},
				Env:          []string{"DOMAIN_ID=4242", fmt.Sprintf("APP_PORT=%d", port)},
				Config:       &runcheck.ConfigOverride{Path: "/app/agent.conf", Content: fmt.Appendf(nil, "server_port = %d\n", runcheck.Port(ln))},
				Listener:     ln,
				WaitFor:      30 * time.Second,
				ProbeURL:     fmt.Sprintf("http://127.0.0.1:%d/index.html", port),
			}
			res := run(t, opts)
			defer dumpOnFailure(t, res)
			want := "JENNIFER domain_id=4242 uid=1000 gid=1000 volume=yes root=no config=yes\n"
			if !res.Connected || string(res.FirstBytes) != want {
				t.Errorf("connected=%v first bytes %q, want %q", res.Connected, res.FirstBytes, want)
			}
			if !res.AppAnswered || res.ProbeBody != "ok\n" {
				t.Errorf("app answered=%v body %q", res.AppAnswered, res.ProbeBody)
			}
			if res.Exited {
				t.Errorf("the app exited (code %d) before the run ended", res.ExitCode)
			}

			// Exits at once: reported quickly, with the output.
			opts = runcheck.Options{Engine: engine, DockerHost: host, ContainerdAddress: ctr,
				Image: daemonRef("runcheck", "quit"), WaitFor: 30 * time.Second, Listener: listen(t)}
			res = run(t, opts)
			if res.Connected || !res.Exited || res.ExitCode != 3 || !strings.Contains(res.Logs, "leaving") {
				t.Errorf("exiting container: %s, logs %q", res, res.Logs)
			}
			if res.Duration > 15*time.Second {
				t.Errorf("an exited container took %s to report", res.Duration)
			}
		})
	}
}
