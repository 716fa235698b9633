package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// DockerdBinEnv names the environment variable that overrides the dockerd
// binary (default: dockerd from PATH, then /usr/sbin/dockerd).
const DockerdBinEnv = "JBUILD_DOCKERD_BIN"

// ErrDockerdUnavailable is returned (wrapped) when dockerd cannot run here
// (not installed, not root).
var ErrDockerdUnavailable = errors.New("dockerd unavailable")

// DockerdHint says how to get what StartDockerd needs on Debian.
const DockerdHint = "dockerd needs root and Debian's docker.io (`apt-get install docker.io` or `make test-deps`;" +
	" it brings containerd and runc), or point " + DockerdBinEnv + " at a dockerd"

// Timeouts of StartDockerd and its stop function.
const (
	dockerdReadyTimeout = 60 * time.Second
	dockerdStopTimeout  = 20 * time.Second
)

// DockerdBinary returns the path of the dockerd StartDockerd runs.
func DockerdBinary() (string, error) {
	if p := os.Getenv(DockerdBinEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrDockerdUnavailable, DockerdBinEnv, p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("dockerd"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/dockerd"); err == nil {
		return "/usr/sbin/dockerd", nil
	}
	return "", fmt.Errorf("%w: dockerd not found", ErrDockerdUnavailable)
}

// StartDockerd starts a dockerd of its own as root, everything in a fresh
// temporary directory TMP: data root TMP/data, exec root TMP/exec, pid file
// TMP/pid, API socket TMP/docker.sock, no iptables and no bridge (tests use
// host networking), overlay2 storage. It starts its own containerd (no
// --containerd), whose socket is TMP/exec/containerd/containerd.sock; its
// k8s.io namespace is free for tests. registryAddr ("127.0.0.1:PORT", may be
// empty) is trusted over plain HTTP. A system dockerd and its
// /var/run/docker.sock are left alone.
//
// It waits until /_ping answers and returns DOCKER_HOST ("unix://TMP/docker.sock"),
// the containerd socket, and a stop function that ends dockerd by its PID
// (SIGTERM, then SIGKILL after a timeout), unmounts what it left mounted
// and removes TMP. stop is safe to call more than once.
func StartDockerd(registryAddr string) (dockerHost, containerdAddr string, stop func(), err error) {
	bin, err := DockerdBinary()
	if err != nil {
		return "", "", nil, fmt.Errorf("starting dockerd: %w; %s", err, DockerdHint)
	}
	return StartDockerdBinary(bin, registryAddr)
}

// StartDockerdBinary is StartDockerd with the dockerd binary bin (see
// DockerdCurrentBinary).
func StartDockerdBinary(bin, registryAddr string) (dockerHost, containerdAddr string, stop func(), err error) {
	if os.Geteuid() != 0 {
		return "", "", nil, fmt.Errorf("starting dockerd: %w: not root; %s", ErrDockerdUnavailable, DockerdHint)
	}
	if _, err := exec.LookPath("containerd"); err != nil {
		return "", "", nil, fmt.Errorf("starting dockerd: %w: containerd not found in PATH; %s", ErrDockerdUnavailable, DockerdHint)
	}
	// Unix socket paths are limited to 108 bytes: keep TMP short.
	dir, err := os.MkdirTemp("/tmp", "jbuild-dockerd-")
	if err != nil {
		return "", "", nil, fmt.Errorf("starting dockerd: %w", err)
	}
	fail := func(err error) (string, string, func(), error) {
		cleanupDir(dir)
		return "", "", nil, fmt.Errorf("starting dockerd: %w", err)
	}
	sock := filepath.Join(dir, "docker.sock")
	execRoot := filepath.Join(dir, "exec")
	args := []string{
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", execRoot,
		"--pidfile", filepath.Join(dir, "pid"),
		"--host", "unix://" + sock,
		"--storage-driver", "overlay2",
		"--iptables=false", "--ip6tables=false", "--ip-masq=false",
		"--bridge=none",
		// No /etc/docker/daemon.json of the machine.
		"--config-file", filepath.Join(dir, "daemon.json"),
	}
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}\n"), 0o644); err != nil {
		return fail(err)
	}
	if registryAddr != "" {
		args = append(args, "--insecure-registry", registryAddr)
	}
	logPath := filepath.Join(dir, "dockerd.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return fail(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	// dockerd's temporary files (docker load, docker save) go to TMP too.
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return fail(err)
	}
	cmd.Env = append(dockerdEnv(), "DOCKER_TMPDIR="+tmp)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its containerd follows dockerd when it is killed; stop also kills a
	// containerd left behind.
	stop, exited, err := startDaemon(cmd, dockerdStopTimeout, func() {
		killContainerd(execRoot)
		cleanupDir(dir)
	})
	if err != nil {
		return fail(fmt.Errorf("%s: %w", bin, err))
	}
	if err := waitDockerd(sock, exited); err != nil {
		log := logTail(logPath, 4096) // before stop removes dir
		stop()
		return "", "", nil, fmt.Errorf("starting dockerd: %w\ndockerd log:\n%s", err, log)
	}
	containerdAddr = filepath.Join(execRoot, "containerd", "containerd.sock")
	if _, err := os.Stat(containerdAddr); err != nil {
		stop()
		return "", "", nil, fmt.Errorf("starting dockerd: its containerd socket: %w", err)
	}
	return "unix://" + sock, containerdAddr, stop, nil
}

// dockerdEnv is the environment without DOCKER_* variables (a DOCKER_HOST
// of the caller means nothing to the daemon started here).
func dockerdEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if len(kv) < 7 || kv[:7] != "DOCKER_" {
			env = append(env, kv)
		}
	}
	return env
}

// killContainerd ends the containerd a dockerd started, by the PID in its
// pid file, if it outlived dockerd (dockerd normally stops it).
func killContainerd(execRoot string) {
	b, err := os.ReadFile(filepath.Join(execRoot, "containerd", "containerd.pid"))
	if err != nil {
		return
	}
	var pid int
	if _, err := fmt.Sscan(string(b), &pid); err != nil || pid <= 1 {
		return
	}
	// Only if that PID is still a containerd (the file may be stale).
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil || filepath.Base(exe) != "containerd" {
		return
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return
	}
	p.Signal(syscall.SIGTERM)
	for i := 0; i < 100; i++ {
		if p.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.Kill()
}

// waitDockerd polls GET /_ping on the socket until it answers OK, dockerd
// exits or dockerdReadyTimeout passes.
func waitDockerd(sock string, exited <-chan struct{}) error {
	client := &http.Client{
		Timeout: time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}},
	}
	deadline := time.Now().Add(dockerdReadyTimeout)
	var last error
	for {
		resp, err := client.Get("http://docker/_ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/_ping: %s", resp.Status)
		}
		last = err
		select {
		case <-exited:
			return fmt.Errorf("dockerd on %s exited before answering /_ping", sock)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dockerd on %s did not answer /_ping within %s (last error: %v)", sock, dockerdReadyTimeout, last)
		}
	}
}
