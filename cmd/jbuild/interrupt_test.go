package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jbuild-dev/jbuild/internal/testing/faultproxy"
	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// SIGINT or SIGTERM while `jbuild wrap` waits on a stalled registry, at
// each point of a wrap: exit code 130 or 143, a message saying what was
// and wasn't written, the source untouched and the target what it was
// before (absent here).
func TestWrapInterrupted(t *testing.T) {
	reg := testenv.Registry(t)
	points := []struct {
		name, method, path string
	}{
		{"manifest-GET", http.MethodGet, faultproxy.PathManifest},
		{"blob-GET", http.MethodGet, faultproxy.PathBlob},
		{"upload-POST", http.MethodPost, faultproxy.PathUploadStart},
		{"upload-PATCH", http.MethodPatch, faultproxy.PathUpload},
		{"upload-PUT", http.MethodPut, faultproxy.PathUpload},
		{"manifest-PUT", http.MethodPut, faultproxy.PathManifest},
	}
	// An agent layer past the size that goes up in one PUT, so that its
	// upload has a PATCH to stall.
	agent := testenv.LargerSampleJavaAgent(t, 2<<20)
	for i, pt := range points {
		sig, code := os.Interrupt, exitSIGINT
		if i%2 == 1 {
			sig, code = syscall.SIGTERM, exitSIGTERM
		}
		t.Run(fmt.Sprintf("%s/%s", pt.name, sigName(sig)), func(t *testing.T) {
			repo := fmt.Sprintf("intr/c%d/app", i)
			src := testenv.PushJavaLike(t, reg+"/"+repo+":1")
			before, err := faultproxy.Snapshot(reg + "/" + repo + ":1-jennifer")
			if err != nil {
				t.Fatal(err)
			}
			p := faultproxy.Start(t, reg)
			p.Add(faultproxy.Rule{Method: pt.method, Path: pt.path, Kind: faultproxy.Stall, Stall: time.Minute, Times: -1})

			cmd := exec.Command(jbuildBin, "wrap", p.Addr()+"/"+repo+":1", "--agent", agent, "--server-address", "127.0.0.1")
			cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+t.TempDir())
			var so, se bytes.Buffer
			cmd.Stdout, cmd.Stderr = &so, &se
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			deadline := time.After(30 * time.Second)
		wait:
			for p.Stats().Faults[faultproxy.Stall] == 0 {
				select {
				case err := <-exited:
					t.Fatalf("jbuild ended before the stall (%v): %s", err, se.String())
				case <-deadline:
					cmd.Process.Kill()
					t.Fatalf("the stall point was never reached: %v", p.Stats())
				case <-time.After(20 * time.Millisecond):
					continue wait
				}
			}
			time.Sleep(100 * time.Millisecond) // let the other uploads run into stalls too
			start := time.Now()
			cmd.Process.Signal(sig)
			var err2 error
			select {
			case err2 = <-exited:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("jbuild still running 20s after %s; stderr: %s", sigName(sig), se.String())
			}
			var ee *exec.ExitError
			if !errors.As(err2, &ee) || ee.ExitCode() != code {
				t.Fatalf("exit %v, want code %d; stderr: %s", err2, code, se.String())
			}
			stderr := se.String()
			t.Logf("stopped %s after the signal; stderr: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(stderr))
			if !strings.Contains(stderr, "jbuild: interrupted by "+sigName(sig)+": ") ||
				!(strings.Contains(stderr, "not written") || strings.Contains(stderr, "nothing written") || strings.Contains(stderr, "may have been written")) {
				t.Errorf("stderr does not say what was written: %s", stderr)
			}
			if so.Len() != 0 {
				t.Errorf("stdout %q: an interrupted wrap must print no result", so.String())
			}
			if now, err := faultproxy.Snapshot(reg + "/" + repo + ":1"); err != nil || now.Digest != src {
				t.Errorf("source changed: %v %v", now, err)
			}
			now, err := faultproxy.CheckConsistent(reg+"/"+repo+":1-jennifer", before)
			if err != nil {
				t.Fatal(err)
			}
			if now != before && !strings.Contains(stderr, "may have been written") {
				t.Errorf("target moved to %s but stderr says it was not written", now)
			}
		})
	}
}
