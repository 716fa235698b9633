package testenv

import (
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// startDaemon starts cmd as a daemon of this test run. It is killed if the
// process that started it dies without stopping it (a test binary killed by
// -timeout, ^C). stop sends SIGTERM, kills it after timeout, waits for it,
// then runs cleanup; it acts once however often it is called. exited is
// closed when the process ends, so readiness waits can give up early.
func startDaemon(cmd *exec.Cmd, timeout time.Duration, cleanup func()) (stop func(), exited <-chan struct{}, err error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(timeout):
				cmd.Process.Kill()
				<-done
			}
			cleanup()
		})
	}
	return stop, done, nil
}
