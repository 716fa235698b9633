package k8scluster

import "fmt"

// containerdConfig is the config of the cluster's own containerd (Debian's
// 1.6, an instance of its own: root, state and socket in the cluster's
// directory). The CRI plugin:
//   - restrict_oom_score_adj: this sandbox lacks CAP_SYS_RESOURCE, and
//     runc fails with "can't get final child's PID" when asked to lower a
//     score;
//   - cgroupfs, not systemd (cgroup v1, no systemd here);
//   - no AppArmor (not available to containers here);
//   - CNI from Debian's containernetworking-plugins, configured below;
//   - the locally built pause image, imported before k3s starts.
const containerdConfig = `version = 2
root = %[1]q
state = %[2]q
oom_score = 0

[grpc]
  address = %[3]q

[ttrpc]
  address = %[7]q

[debug]
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = %[4]q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[5]q
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  disable_cgroup = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "/usr/sbin/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %[6]q
`

func containerdTOML(root, state, sock, opt, cniConfDir string) string {
	return fmt.Sprintf(containerdConfig, root, state, sock, opt, PauseImage, cniConfDir, sock+".ttrpc")
}

// PodCIDR is the pods' network (k3s's default cluster CIDR's first
// node range) on the cni0 bridge inside the cluster's network namespace.
const PodCIDR = "10.42.0.0/24"

// cniConflist: a bridge with the pods' gateway, masquerading what leaves
// for the veth (the data servers on the host end), hairpin so a pod
// reaches itself through its Service, and portmap.
const cniConflist = `{
  "cniVersion": "1.0.0",
  "name": "jbuild-k8s",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "` + PodCIDR + `"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`

// nsScript runs as the first process of the cluster's private mount, PID
// and network namespaces (unshare). It makes the host's /etc and /var
// copy-on-write (overlays whose upper directories are in the cluster's
// directory), gives the cluster its own /run, waits for the veth end the
// starter moves in, then starts containerd and k3s. Everything it mounts
// and every process it starts ends with the namespaces.
const nsScript = `set -eu
D=$JBUILD_K8S_DIR
mount --make-rshared /
for d in etc var; do
  mkdir -p "$D/ovl/$d.upper" "$D/ovl/$d.work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$D/ovl/$d.upper,workdir=$D/ovl/$d.work" "/$d"
done
mount -t tmpfs -o mode=755 tmpfs /run
ip link set lo up
ip addr add "$JBUILD_K8S_DATA_IP/32" dev lo
i=0
until ip link show eth0 >/dev/null 2>&1; do
  i=$((i+1)); [ $i -lt 300 ] || { echo "no veth after 30s" >&2; exit 1; }
  sleep 0.1
done
ip addr add "$JBUILD_K8S_NODE_IP/30" dev eth0
ip link set eth0 up
ip route add default via "$JBUILD_K8S_HOST_IP"
echo 1 > /proc/sys/net/ipv4/ip_forward
echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || true
echo "jbuild-k8s: namespaces ready"
containerd --config "$D/containerd.toml" >"$D/containerd.log" 2>&1 &
i=0
until [ -S "$D/containerd/containerd.sock" ]; do
  i=$((i+1)); [ $i -lt 300 ] || { echo "containerd did not start" >&2; exit 1; }
  sleep 0.1
done
touch "$D/containerd.ready"
until [ -e "$D/k3s.go" ]; do sleep 0.1; done
"$D/bin/k3s" server "$@" >"$D/k3s.log" 2>&1 &
wait
`
