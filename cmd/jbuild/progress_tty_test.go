package main

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/creack/pty"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// On a terminal: BuildKit's live view ("[+] Wrapping ... FINISHED") with
// the wrap and the push as steps, and none of ggcr's raw per-blob lines
// ("pushed blob: ...") breaking into it. The result still goes to stdout.
func TestTerminalProgress(t *testing.T) {
	reg := testenv.Registry(t)
	testenv.PushRandomImage(t, reg+"/tty/app:1", 2, 64<<10, func(cf *v1.ConfigFile) {
		cf.Config.Env = []string{"PATH=/usr/bin:/bin", "JAVA_HOME=" + testenv.JavaLikeHome}
		cf.Config.Entrypoint = []string{"java", "-jar", "/app/app.jar"}
		cf.Config.User = "1000:1000"
	})
	cmd := exec.Command(jbuildBin, "wrap", reg+"/tty/app:1", "-t", reg+"/tty2/app:1-jennifer", "--agent", sampleAgentDir(t), "--server-address", "10.0.0.5")
	cmd.Env = append(cmd.Environ(), "XDG_CACHE_HOME="+t.TempDir(), "TERM=xterm")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Fatal(err)
	}
	var screen bytes.Buffer
	io.Copy(&screen, tty) // until the process closes its side (EIO)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("wrap: %v\n%s", err, screen.String())
	}
	got := screen.String()
	t.Logf("terminal:\n%s", got)
	for _, want := range []string{"[+] Wrapping", "FINISHED", "wrap " + reg + "/tty/app:1", "pushing " + reg + "/tty2/app:1-jennifer"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal lacks %q:\n%q", want, got)
		}
	}
	for _, raw := range []string{"pushed blob:", "mounted blob:", "existing blob:", ": digest: sha256:"} {
		if strings.Contains(got, raw) {
			t.Errorf("a raw ggcr line %q on the terminal:\n%q", raw, got)
		}
	}
	if !strings.HasPrefix(stdout.String(), reg+"/tty2/app:1-jennifer@sha256:") {
		t.Errorf("stdout %q: want the written reference", stdout.String())
	}
}
