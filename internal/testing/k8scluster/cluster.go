package k8scluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jbuild-dev/jbuild/internal/testing/testenv"
)

// NodeName is the cluster's only node.
const NodeName = "jbuild-k8s"

// Timeouts of Start.
const (
	nsReadyTimeout   = 30 * time.Second
	nodeReadyTimeout = 3 * time.Minute
)

// Cluster is a running single-node Kubernetes: k3s (API server,
// scheduler, controllers, kubelet, kube-proxy, embedded etcd) on a
// containerd of its own, in private mount, PID and network namespaces
// whose only link to the host is a veth pair (HostIP on the host's end,
// NodeIP on the node's). Nothing of it outlives Stop: its processes die
// with the PID namespace, its mounts and iptables rules with the mount and
// network namespaces, its files with Dir, its cgroups are removed.
type Cluster struct {
	// Dir holds everything the cluster writes (containerd's root, k3s's
	// data, the overlays' upper directories, logs).
	Dir string
	// Kubeconfig is a kubeconfig for cluster-admin that reaches the API
	// server at NodeIP:6443 from the host.
	Kubeconfig string
	// HostIP is the host's end of the veth: a server listening there is
	// reachable from the pods (the agents' data server) and from nowhere
	// else. NodeIP is the node's address, the API server's.
	HostIP, NodeIP string

	slot       int
	k3s        string
	cmd        *exec.Cmd
	done       chan struct{}
	unlockSlot func()
	stopOnce   sync.Once
}

// Start starts a cluster and waits until its node is Ready. The pause and
// metrics-server images are built here and imported before k3s starts;
// WaitMetrics waits for the metrics API the HorizontalPodAutoscaler reads.
func Start(ctx context.Context) (*Cluster, error) {
	if err := checkHost(); err != nil {
		return nil, fmt.Errorf("starting k3s: %w", err)
	}
	k3s, err := K3sBinary()
	if err != nil {
		return nil, fmt.Errorf("starting k3s: %w; %s", err, Hint)
	}
	msImg, err := metricsServerImage()
	if err != nil {
		return nil, fmt.Errorf("starting k3s: metrics-server image: %w; %s", err, Hint)
	}
	slot, unlock, err := takeSlot()
	if err != nil {
		return nil, fmt.Errorf("starting k3s: %w", err)
	}
	dir, err := os.MkdirTemp("", "jbuild-k8s-")
	if err != nil {
		unlock()
		return nil, fmt.Errorf("starting k3s: %w", err)
	}
	c := &Cluster{
		Dir: dir, Kubeconfig: filepath.Join(dir, "kubeconfig.yaml"),
		HostIP: fmt.Sprintf("10.250.%d.1", slot), NodeIP: fmt.Sprintf("10.250.%d.2", slot),
		slot: slot, k3s: k3s, unlockSlot: unlock, done: make(chan struct{}),
	}
	if err := c.start(ctx, msImg); err != nil {
		logs := c.Logs(3000)
		c.Stop()
		return nil, fmt.Errorf("starting k3s: %w\n%s", err, logs)
	}
	return c, nil
}

// checkHost reports what this machine lacks to run the cluster.
func checkHost() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: not root (namespaces, mounts, cgroups); %s", ErrUnavailable, Hint)
	}
	for _, p := range []struct{ path, pkg string }{
		{"/usr/bin/unshare", "util-linux"},
		{"/usr/sbin/ip", "iproute2"},
		{"/usr/bin/containerd", "containerd"},
		{"/usr/bin/containerd-shim-runc-v2", "containerd"},
		{"/usr/sbin/runc", "runc"},
		{"/usr/lib/cni/bridge", "containernetworking-plugins"},
		{"/usr/lib/cni/host-local", "containernetworking-plugins"},
		{"/usr/sbin/iptables", "iptables"},
	} {
		if _, err := os.Stat(p.path); err != nil {
			return fmt.Errorf("%w: %s is missing: install it with `apt-get install %s` or `make test-deps`", ErrUnavailable, p.path, p.pkg)
		}
	}
	return nil
}

// takeSlot picks a free cluster number (0..15), held by a file lock (in
// the cache directory, next to the binaries) until Stop: it names the veth (jbk8sN), its /30 (10.250.N.0) and the pods'
// cgroup root, so test binaries running in parallel can each run a
// cluster.
func takeSlot() (int, func(), error) {
	cache, err := testenv.TestCacheDir()
	if err != nil {
		return 0, nil, err
	}
	dir := filepath.Join(cache, "bin-k8s")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, nil, err
	}
	for i := 0; i < 16; i++ {
		f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf(".slot-%d.lock", i)), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			return 0, nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		return i, func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
	}
	return 0, nil, errors.New("16 clusters are running already")
}

func (c *Cluster) vethName() string   { return fmt.Sprintf("jbk8s%d", c.slot) }
func (c *Cluster) cgroupRoot() string { return fmt.Sprintf("/jbuild-k8s-%d", c.slot) }

// k3sArgs are k3s server's flags: no bundled add-ons but metrics-server
// (traefik, servicelb, local-storage and coredns would need images from a
// public registry; the tests name Services by ClusterIP), no flannel (CNI
// is the bridge of the cluster's containerd), the kubelet on cgroup v1
// with cgroupfs, and kube-proxy masquerading Service traffic, so a pod
// reaches a Service whose endpoint is on the same bridge.
func (c *Cluster) k3sArgs() []string {
	return []string{
		"--cluster-init",
		"--data-dir", filepath.Join(c.Dir, "k3s"),
		"--node-name", NodeName,
		"--node-ip", c.NodeIP,
		"--tls-san", c.NodeIP,
		"--write-kubeconfig", filepath.Join(c.Dir, "k3s-kubeconfig.yaml"),
		"--write-kubeconfig-mode", "0600",
		"--container-runtime-endpoint", "unix://" + c.containerdSock(),
		"--flannel-backend=none",
		"--disable-network-policy",
		"--disable-helm-controller",
		"--disable=traefik,servicelb,local-storage,coredns",
		"--system-default-registry=jbuild.test",
		"--kubelet-arg=fail-cgroupv1=false",
		"--kubelet-arg=cgroup-driver=cgroupfs",
		"--kubelet-arg=cgroup-root=" + c.cgroupRoot(),
		"--kubelet-arg=eviction-hard=memory.available<100Mi,nodefs.available<2%,imagefs.available<2%",
		"--kube-proxy-arg=conntrack-max-per-core=0",
		"--kube-proxy-arg=masquerade-all=true",
	}
}

func (c *Cluster) containerdSock() string {
	return filepath.Join(c.Dir, "containerd", "containerd.sock")
}

// Logs is the tail (n bytes each) of the namespace script's, containerd's
// and k3s's logs, for a failure message.
func (c *Cluster) Logs(n int) string {
	var b strings.Builder
	for _, f := range []string{"ns.log", "containerd.log", "k3s.log"} {
		data, err := os.ReadFile(filepath.Join(c.Dir, f))
		if err != nil {
			continue
		}
		if len(data) > n {
			data = data[len(data)-n:]
		}
		fmt.Fprintf(&b, "--- %s (tail)\n%s\n", f, data)
	}
	return b.String()
}
