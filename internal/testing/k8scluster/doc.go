// Package k8scluster runs a real single-node Kubernetes for the
// integration tier and `make k8s-demo`: k3s (kube-apiserver with Pod
// Security admission, scheduler, controller-manager with the
// HorizontalPodAutoscaler, kubelet, kube-proxy, embedded etcd) built from
// its Go module, on Debian's containerd as an instance of its own with the
// CRI plugin, CNI from Debian's containernetworking-plugins, a pause image
// built here, and metrics-server built from its Go module, so an HPA has a
// CPU metric. No public registry is needed: images are imported into the
// cluster's containerd (Import).
//
// The cluster runs in private mount, PID and network namespaces
// (unshare), with copy-on-write overlays on /etc and /var and its own
// /run; a veth pair is its only link to the host (Cluster.HostIP for data
// servers the pods reach, Cluster.NodeIP for the API server). Stop leaves
// nothing behind: no process, mount, link, iptables rule, cgroup or file.
//
// k3s and metrics-server are built once per machine into
// ~/.cache/jbuild-test/bin-k8s (a cold k3s build takes about 10 minutes
// on 2 cores); never through jbuild's go.mod.
package k8scluster
