//go:build !linux

package mockserver

import (
	"errors"
	"os/exec"
)

func setDeathSignal(cmd *exec.Cmd) {}

// idleProcess is Linux's: elsewhere a worker process keeps its priority.
func idleProcess(pid int) error {
	return errors.New("SCHED_IDLE is Linux's")
}

func niceProcess(pid, nice int) error { return nil }

func dutyCycle(pid int, stop <-chan struct{}, done chan<- struct{}) {
	<-stop
	close(done)
}
