package testenv

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	bkclient "github.com/moby/buildkit/client"
)

// RuncBinary is the OCI runtime buildkitd's OCI worker runs (Debian's runc).
const RuncBinary = "/usr/sbin/runc"

// Timeouts of StartBuildkitd and its stop function.
const (
	buildkitdReadyTimeout = 60 * time.Second
	buildkitdStopTimeout  = 15 * time.Second
)

// buildkitdConfig is the buildkitd.toml StartBuildkitd writes: the gRPC
// socket and the OTEL socket in the temporary directory (the default OTEL
// socket is /run/buildkit/otel-grpc.sock, shared by every buildkitd on the
// machine), no CDI device discovery, and registries entries (the loopback
// registry) appended by registryTOML.
const buildkitdConfig = `root = %q

[grpc]
  address = [%q]

[otel]
  socketPath = %q

[cdi]
  disabled = true
`

// registryTOML marks a loopback registry as plain HTTP, so that
// `# syntax=127.0.0.1:PORT/...` and `FROM 127.0.0.1:PORT/...` resolve and
// image exports push to it.
func registryTOML(host string) string {
	return fmt.Sprintf("\n[registry.%q]\n  http = true\n  insecure = true\n", host)
}

// StartBuildkitd starts a buildkitd (BuildkitdBinary) as root with only the
// OCI worker (runc, overlayfs snapshotter, no GC), its state in a fresh
// temporary directory, listening on a unix socket there. registryAddr
// ("127.0.0.1:PORT", may be empty) is configured as a plain-HTTP registry.
// It waits until the daemon lists its workers and returns the address
// ("unix:///tmp/.../buildkitd.sock") and a stop function that ends the
// daemon by its PID (SIGTERM, then SIGKILL), unmounts what it left mounted
// and removes the directory. stop is safe to call more than once.
func StartBuildkitd(registryAddr string) (addr string, stop func(), err error) {
	if os.Geteuid() != 0 {
		return "", nil, fmt.Errorf("starting buildkitd: %w: not root (the OCI worker runs runc as root); %s", ErrBuildkitdUnavailable, BuildkitdHint)
	}
	if _, err := os.Stat(RuncBinary); err != nil {
		return "", nil, fmt.Errorf("starting buildkitd: %w: %v; install it with `apt-get install runc` or `make test-deps`", ErrBuildkitdUnavailable, err)
	}
	bin, err := BuildkitdBinary()
	if err != nil {
		return "", nil, fmt.Errorf("starting buildkitd: %w; %s", err, BuildkitdHint)
	}

	dir, err := os.MkdirTemp("", "jbuild-buildkitd-")
	if err != nil {
		return "", nil, fmt.Errorf("starting buildkitd: %w", err)
	}
	fail := func(err error) (string, func(), error) {
		cleanupDir(dir)
		return "", nil, fmt.Errorf("starting buildkitd: %w", err)
	}
	root := filepath.Join(dir, "root")
	tmp := filepath.Join(dir, "tmp")
	for _, d := range []string{root, tmp} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return fail(err)
		}
	}
	addr = "unix://" + filepath.Join(dir, "buildkitd.sock")
	cfg := fmt.Sprintf(buildkitdConfig, root, addr, filepath.Join(dir, "otel-grpc.sock"))
	if registryAddr != "" {
		cfg += registryTOML(registryAddr)
		if host, port, ok := strings.Cut(registryAddr, ":"); ok && host == "127.0.0.1" {
			cfg += registryTOML("localhost:" + port)
		}
	}
	cfgPath := filepath.Join(dir, "buildkitd.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return fail(err)
	}
	logPath := filepath.Join(dir, "buildkitd.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return fail(err)
	}
	defer logf.Close()

	cmd := exec.Command(bin,
		"--config", cfgPath,
		"--root", root,
		"--addr", addr,
		"--oci-worker=true",
		"--oci-worker-binary", RuncBinary,
		"--oci-worker-snapshotter", "overlayfs",
		"--oci-worker-gc=false",
		"--containerd-worker=false",
	)
	// buildkitd's own temporary files go to the directory stop removes.
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	cmd.Stdout, cmd.Stderr = logf, logf
	stop, exited, err := startDaemon(cmd, buildkitdStopTimeout, func() { cleanupDir(dir) })
	if err != nil {
		return fail(fmt.Errorf("%s: %w", bin, err))
	}
	if err := waitBuildkitd(addr, exited); err != nil {
		log := logTail(logPath, 4096) // before stop removes dir
		stop()
		return "", nil, fmt.Errorf("starting buildkitd: %w\nbuildkitd log:\n%s", err, log)
	}
	return addr, stop, nil
}

// BuildkitdLog returns at most the last n bytes of the log of the
// buildkitd listening on addr (as StartBuildkitd returned it), for a test
// to print when a solve fails. The log is removed by stop.
func BuildkitdLog(addr string, n int) string {
	sock := strings.TrimPrefix(addr, "unix://")
	return logTail(filepath.Join(filepath.Dir(sock), "buildkitd.log"), n)
}

// waitBuildkitd polls ListWorkers until buildkitd answers with at least
// one worker, the process exits or buildkitdReadyTimeout passes.
func waitBuildkitd(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(buildkitdReadyTimeout)
	var last error
	for {
		last = pingBuildkitd(addr)
		if last == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("buildkitd on %s exited before answering", addr)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("buildkitd on %s did not answer within %s (last error: %v)", addr, buildkitdReadyTimeout, last)
		}
	}
}

func pingBuildkitd(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := bkclient.New(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	ws, err := c.ListWorkers(ctx)
	if err != nil {
		return err
	}
	if len(ws) == 0 {
		return fmt.Errorf("no workers")
	}
	return nil
}

// cleanupDir unmounts whatever is still mounted below dir (overlay
// snapshots of a killed buildkitd, runc rootfs mounts), deepest first, and
// removes dir.
func cleanupDir(dir string) {
	for _, m := range mountsUnder(dir) {
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
	os.RemoveAll(dir)
}

// mountsUnder lists the mount points at or below dir, deepest first.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var mounts []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for s.Scan() {
		// Fields: id parent major:minor root mountpoint options ...
		fields := strings.Fields(s.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountinfo(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			mounts = append(mounts, mp)
		}
	}
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	return mounts
}

// unescapeMountinfo undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			ok := true
			for _, c := range s[i+1 : i+4] {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				v = v*8 + byte(c-'0')
			}
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
