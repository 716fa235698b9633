package k8scluster

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"syscall"
	"time"
)

// DialContext connects from inside the cluster's network namespace, the
// node's own view: Service ClusterIPs (kube-proxy's rules) and pod IPs are
// reachable there, and nothing of the host's routing changes.
func (c *Cluster) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var conn net.Conn
	err := c.inNetns(func() (err error) {
		var d net.Dialer
		conn, err = d.DialContext(ctx, network, addr)
		return err
	})
	return conn, err
}

// Listen listens inside the cluster's network namespace, e.g. on
// NodeIP:5000: pods connect to it as to a server on their node, with their
// own address as the source (no masquerading on the way), so a data server
// there tells the pods' agents apart.
func (c *Cluster) Listen(network, addr string) (net.Listener, error) {
	var ln net.Listener
	err := c.inNetns(func() (err error) {
		ln, err = net.Listen(network, addr)
		return err
	})
	return ln, err
}

// inNetns runs f on an OS thread moved into the cluster's network
// namespace; the sockets f makes belong to that namespace for their whole
// life. The thread is moved back afterwards; if that fails it is never
// returned to the Go scheduler (its goroutine ends locked, so the runtime
// discards it).
func (c *Cluster) inNetns(f func() error) error {
	ch := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
		if err != nil {
			ch <- err
			return
		}
		defer self.Close()
		ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", c.cmd.Process.Pid))
		if err != nil {
			ch <- err
			return
		}
		defer ns.Close()
		if err := setns(ns); err != nil {
			ch <- err
			return
		}
		ch <- f()
		if setns(self) == nil {
			runtime.UnlockOSThread()
		}
	}()
	return <-ch
}

func setns(f *os.File) error {
	if _, _, errno := syscall.Syscall(sysSetns, f.Fd(), syscall.CLONE_NEWNET, 0); errno != 0 {
		return fmt.Errorf("setns: %w", errno)
	}
	return nil
}

// HTTPClient is an HTTP client whose connections start inside the
// cluster's network namespace (DialContext), one per request.
func (c *Cluster) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{DialContext: c.DialContext, DisableKeepAlives: true},
	}
}
