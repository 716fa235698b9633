package k8scluster

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// start lays out c.Dir, starts the namespaces (unshare) with nsScript as
// their first process, links them to the host with a veth pair, imports
// the pause and metrics-server images into the cluster's containerd, lets
// k3s start and waits for the node.
func (c *Cluster) start(ctx context.Context, msImg v1.Image) error {
	for _, d := range []string{"bin", "cni", "containerd/root", "containerd/state", "containerd/opt", "ovl"} {
		if err := os.MkdirAll(filepath.Join(c.Dir, d), 0o755); err != nil {
			return err
		}
	}
	pause, err := pauseImage(filepath.Join(c.Dir, "bin"))
	if err != nil {
		return err
	}
	files := map[string]string{
		"ns.sh":                  nsScript,
		"cni/10-jbuild.conflist": cniConflist,
		"containerd.toml": containerdTOML(filepath.Join(c.Dir, "containerd/root"), filepath.Join(c.Dir, "containerd/state"),
			c.containerdSock(), filepath.Join(c.Dir, "containerd/opt"), filepath.Join(c.Dir, "cni")),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(c.Dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	// k3s is kubectl, crictl and ctr too: it dispatches on its name.
	for _, name := range []string{"k3s", "kubectl"} {
		if err := os.Symlink(c.k3s, filepath.Join(c.Dir, "bin", name)); err != nil {
			return err
		}
	}
	if err := makeCgroups(c.cgroupRoot()); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(c.Dir, "ns.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	args := append([]string{"--mount", "--net", "--pid", "--fork", "--mount-proc", "--propagation", "private",
		"--kill-child=SIGKILL", "sh", filepath.Join(c.Dir, "ns.sh")}, c.k3sArgs()...)
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(os.Environ(),
		"JBUILD_K8S_DIR="+c.Dir, "JBUILD_K8S_NODE_IP="+c.NodeIP, "JBUILD_K8S_HOST_IP="+c.HostIP,
		"JBUILD_K8S_DATA_IP="+DataServerIP,
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	cmd.Stdout, cmd.Stderr = logf, logf
	// If this process dies without Stop, unshare gets SIGKILL, and with
	// it (--kill-child) the namespaces' first process: the kernel then
	// kills every process of the PID namespace.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := startLocked(cmd, c.done); err != nil {
		return fmt.Errorf("unshare: %w; install util-linux", err)
	}
	c.cmd = cmd

	if err := c.waitFor("the cluster's network namespace", nsReadyTimeout, c.inOwnNetns); err != nil {
		return err
	}
	veth := c.vethName()
	for _, ipArgs := range [][]string{
		{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", fmt.Sprint(cmd.Process.Pid)},
		{"addr", "add", c.HostIP + "/30", "dev", veth},
		{"link", "set", veth, "up"},
	} {
		if out, err := exec.Command("ip", ipArgs...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(ipArgs, " "), err, out)
		}
	}
	if err := c.waitFor("containerd", nsReadyTimeout, c.fileExists("containerd.ready")); err != nil {
		return err
	}
	for ref, img := range map[string]v1.Image{PauseImage: pause, MetricsServerImage: msImg} {
		if err := importImage(ctx, c.containerdSock(), ref, img); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(c.Dir, "k3s.go"), nil, 0o644); err != nil {
		return err
	}
	if err := c.waitFor("k3s's kubeconfig", nodeReadyTimeout, c.fileExists("k3s-kubeconfig.yaml")); err != nil {
		return err
	}
	if err := c.writeKubeconfig(); err != nil {
		return err
	}
	if err := c.waitFor("node "+NodeName, nodeReadyTimeout, c.nodeReady(ctx)); err != nil {
		return err
	}
	return nil
}

// startLocked starts cmd from a goroutine locked to its OS thread, which
// stays alive until cmd ends (then done is closed): the kernel sends
// Pdeathsig when the thread that forked the child exits, not the process,
// and the Go runtime ends threads (a goroutine that exits locked, as
// inNetns's may).
func startLocked(cmd *exec.Cmd, done chan struct{}) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
		close(done)
	}()
	return <-started
}

// writeKubeconfig is k3s's kubeconfig with the server at NodeIP (k3s
// writes 127.0.0.1, the namespace's own loopback).
func (c *Cluster) writeKubeconfig() error {
	b, err := os.ReadFile(filepath.Join(c.Dir, "k3s-kubeconfig.yaml"))
	if err != nil {
		return err
	}
	s := strings.ReplaceAll(string(b), "https://127.0.0.1:6443", "https://"+c.NodeIP+":6443")
	return os.WriteFile(c.Kubeconfig, []byte(s), 0o600)
}

func (c *Cluster) inOwnNetns() (bool, error) {
	self, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		return false, err
	}
	theirs, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", c.cmd.Process.Pid))
	return err == nil && theirs != self, nil
}

func (c *Cluster) fileExists(name string) func() (bool, error) {
	return func() (bool, error) {
		_, err := os.Stat(filepath.Join(c.Dir, name))
		return err == nil, nil
	}
}

func (c *Cluster) nodeReady(ctx context.Context) func() (bool, error) {
	return func() (bool, error) {
		out, err := c.Kubectl(ctx, nil, "get", "node", NodeName, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return err == nil && strings.TrimSpace(out) == "True", nil
	}
}

// waitFor polls ok every 200ms until it is true, the namespaces end or
// timeout passes.
func (c *Cluster) waitFor(what string, timeout time.Duration, ok func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		done, err := ok()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if done {
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("waiting for %s: the cluster's namespaces ended", what)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %s", what, timeout)
		}
	}
}

// Stop ends the cluster: SIGKILL to unshare, whose first child then gets
// SIGKILL too (--kill-child), which kills every process of the PID
// namespace; the mount and network namespaces (overlays, tmpfs, iptables
// rules) go with their last process. Stop deletes the veth pair, removes
// the pods' cgroups and Dir. It is safe to call more than once.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		if c.cmd != nil && c.cmd.Process != nil {
			c.cmd.Process.Kill()
			<-c.done
		}
		// The namespace's end of the veth goes with the network
		// namespace, but the kernel frees that only once the sockets of
		// its processes have timed out (minutes, for TIME_WAIT):
		// deleting the host's end deletes the pair now.
		exec.Command("ip", "link", "del", c.vethName()).Run()
		removeCgroups(c.cgroupRoot())
		for i := 0; i < 50; i++ {
			if err := os.RemoveAll(c.Dir); err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if c.unlockSlot != nil {
			c.unlockSlot()
		}
	})
}

// makeCgroups makes the pods' cgroup root in every cgroup hierarchy: the
// kubelet (--cgroup-root) refuses to start when one is missing.
func makeCgroups(root string) error {
	for _, h := range cgroupMounts() {
		if err := os.Mkdir(filepath.Join(h, root), 0o755); err != nil && !os.IsExist(err) {
			return fmt.Errorf("cgroup %s: %w", root, err)
		}
	}
	return nil
}

// cgroupMounts lists the mount points of the cgroup hierarchies: one per
// controller on cgroup v1 (/sys/fs/cgroup/cpu, ...), the unified one on
// v2 (/sys/fs/cgroup).
func cgroupMounts() []string {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return nil
	}
	defer f.Close()
	var mounts []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fields := strings.Fields(s.Text()); len(fields) > 2 && (fields[2] == "cgroup" || fields[2] == "cgroup2") {
			mounts = append(mounts, fields[1])
		}
	}
	return mounts
}

// removeCgroups removes the cgroups the kubelet made under root in every
// cgroup hierarchy (they are not namespaced and would stay, empty,
// after their processes are gone), deepest first.
func removeCgroups(root string) {
	for _, h := range cgroupMounts() {
		top := filepath.Join(h, root)
		var dirs []string
		filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
		for _, d := range dirs {
			for i := 0; i < 20 && syscall.Rmdir(d) != nil; i++ {
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
}

// Leftovers lists what a stopped cluster would have left behind on the
// host: its veth, its cgroups, its directory, mounts below it. Tests
// assert it is empty after Stop.
func (c *Cluster) Leftovers() []string {
	var left []string
	if exec.Command("ip", "link", "show", c.vethName()).Run() == nil {
		left = append(left, "link "+c.vethName())
	}
	for _, h := range cgroupMounts() {
		if _, err := os.Stat(filepath.Join(h, c.cgroupRoot())); err == nil {
			left = append(left, filepath.Join(h, c.cgroupRoot()))
		}
	}
	if _, err := os.Stat(c.Dir); err == nil {
		left = append(left, c.Dir)
	}
	if f, err := os.Open("/proc/self/mountinfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if fields := strings.Fields(s.Text()); len(fields) > 4 && strings.HasPrefix(fields[4], c.Dir) {
				left = append(left, "mount "+fields[4])
			}
		}
		f.Close()
	}
	return left
}
