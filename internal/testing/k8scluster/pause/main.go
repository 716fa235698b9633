// Command pause is the cluster's sandbox ("pause") image's only program:
// it holds a pod's namespaces open, reaps the zombies it inherits as the
// pod's first process, and exits on SIGTERM or SIGINT. No public registry
// is reachable here, so k8scluster builds it (static) into the image
// containerd's CRI plugin pins as sandbox_image.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
