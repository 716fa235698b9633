package agent

import (
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A server whose accept queue is full (Linux then drops new SYNs, so the
// client's connect hangs, as with a firewall that drops packets): each
// attempt gives up after ConnectTimeout.
func TestURLConnectTimeout(t *testing.T) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	// Backlog 0 still queues one connection: take that place.
	filler, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer filler.Close()

	cache := t.TempDir()
	opts := Options{CacheDir: cache, ConnectTimeout: 200 * time.Millisecond, HeaderTimeout: time.Minute, DownloadAttempts: 2}
	_, err = openWithin(t, 10*time.Second, "http://"+addr+"/download/agent/java/latest?token=SECRET", opts)
	if err == nil || !strings.Contains(err.Error(), "downloading agent from http://"+addr+"/download/agent/java/latest: no connection within 200ms, tried 2 times") || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("error %v: want no connection within 200ms, the URL without its token", err)
	}
	if got := listFiles(t, cache); len(got) != 0 {
		t.Errorf("failed download left files in the cache: %v", got)
	}
}
