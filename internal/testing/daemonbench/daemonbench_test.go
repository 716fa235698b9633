package daemonbench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/jbuild-dev/jbuild/internal/testing/sampleimage"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	rounds    = 5
	bigLayers = 3
	bigSize   = 130 << 20 // with the sample rootfs: a ~395 MB image
	agentFill = 20 << 20  // a 20 MB agent, as in the other cases
	toolOpts  = "-javaagent:/opt/jennifer/agent.java/jennifer.jar -Djennifer.config=/opt/jennifer/agent.java/conf/jennifer.conf"
)

func TestDaemonWrapVsDockerBuild(t *testing.T) {
	mode := os.Getenv("JBUILD_DAEMON_BENCH")
	if mode == "" {
		t.Skip("set JBUILD_DAEMON_BENCH=1 (dockerd 20.10) or =current (dockerd 28.5) to measure")
	}
	host := ""
	if mode == "current" {
		host = testenv.DockerdCurrent(t)
	} else {
		host = testenv.Dockerd(t)
	}
	docker := testenv.BuildxOn(t, host)
	ctx := context.Background()

	// The base: the sample Java image (USER app, a name) and three big
	// layers, loaded once.
	base := bigImage(t)
	testenv.LoadImage(t, host, "dbench/app:1", base)

	agent := testenv.LargerSampleJavaAgent(t, agentFill)
	bin := jbuildBinary(t)
	cacheHome := t.TempDir()
	ctxDir := t.TempDir()
	if err := os.CopyFS(filepath.Join(ctxDir, "agent.java"), os.DirFS(agent)); err != nil {
		t.Fatal(err)
	}
	dockerfile := "FROM dbench/app:1\nCOPY agent.java /opt/jennifer/agent.java\nENV JAVA_TOOL_OPTIONS=\"" + toolOpts + "\"\n"
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}

	jbuild := func(i int) error {
		cmd := exec.CommandContext(ctx, bin, "wrap", "docker-daemon:dbench/app:1", "-t", fmt.Sprintf("docker-daemon:dbench/app:jb%d", i),
			"--agent", agent, "--server-address", fmt.Sprintf("10.0.0.%d", i+1))
		cmd.Env = append(docker.Env(), "XDG_CACHE_HOME="+cacheHome, "HOME="+cacheHome)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("jbuild wrap: %w\n%s", err, out)
		}
		if strings.Contains(string(out), "exporting the image") {
			return fmt.Errorf("jbuild wrap fell back to docker save:\n%s", out)
		}
		return nil
	}
	build := func(env string) func(i int) error {
		return func(i int) error {
			cmd := docker.Command(ctx, []string{env}, "build", "--no-cache", "-q", "-t", fmt.Sprintf("dbench/app:dk%d", i), ctxDir)
			out, err := cmd.CombinedOutput()
			if err != nil {
				return fmt.Errorf("docker build (%s): %w\n%s", env, err, out)
			}
			return nil
		}
	}
	ways := []struct {
		name string
		run  func(int) error
		took []time.Duration
	}{
		{name: "jbuild wrap docker-daemon:", run: jbuild},
		{name: "docker build, classic builder (DOCKER_BUILDKIT=0)", run: build("DOCKER_BUILDKIT=0")},
		{name: "docker build, the daemon's BuildKit (DOCKER_BUILDKIT=1)", run: build("DOCKER_BUILDKIT=1")},
	}
	// One warm-up round each (jbuild's agent layer cache, the daemon's
	// page cache), then the rounds interleaved so that both share the
	// machine's noise.
	for i := 0; i <= rounds; i++ {
		for w := range ways {
			start := time.Now()
			if err := ways[w].run(i); err != nil {
				if w == 2 {
					t.Logf("BuildKit: %v", err)
					continue
				}
				t.Fatal(err)
			}
			if i > 0 {
				ways[w].took = append(ways[w].took, time.Since(start))
			}
		}
	}

	// What jbuild wrote is what the Dockerfile means: the agent and the env.
	cli := testenv.DockerClient(t, host)
	info, err := cli.ImageInspect(ctx, "dbench/app:jb1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(info.Config.Env, "\n"), "JAVA_TOOL_OPTIONS=-Xmx256m -javaagent:") {
		t.Errorf("jbuild's env: %q", info.Config.Env)
	}
	if n := len(info.RootFS.Layers); n != bigLayers+3 {
		t.Errorf("jbuild's image has %d layers, want %d", n, bigLayers+3)
	}

	classic := median(ways[1].took)
	for _, w := range ways {
		if len(w.took) == 0 {
			continue
		}
		m := median(w.took)
		t.Logf("%-58s median %7.3fs of %d (%s), %.2fx the classic build", w.name, m.Seconds(), len(w.took), durations(w.took), m.Seconds()/classic.Seconds())
	}
}

func bigImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := sampleimage.JavaApp()
	if err != nil {
		t.Fatal(err)
	}
	for i := range bigLayers {
		l, err := testenv.RandomLayer(bigSize, false)
		if err != nil {
			t.Fatal(err)
		}
		img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{Created: v1.Time{Time: sampleimage.Created}, CreatedBy: fmt.Sprintf("COPY data%d /data/%d # buildkit", i, i)}})
		if err != nil {
			t.Fatal(err)
		}
	}
	return img
}

func jbuildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "jbuild")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/jbuild-dev/jbuild/cmd/jbuild").CombinedOutput()
	if err != nil {
		t.Fatalf("building jbuild: %v\n%s", err, out)
	}
	return bin
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func durations(ds []time.Duration) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%.2f", d.Seconds()))
	}
	return strings.Join(parts, " ")
}
