//go:build !linux

package mockserver

import (
	"errors"
	"os"
	"os/exec"
)

func setDeathSignal(cmd *exec.Cmd) {}

// idleProcess is Linux's: elsewhere a worker process keeps its priority.
func idleProcess(pid int) error {
	return errors.New("SCHED_IDLE is Linux's")
}

func niceProcess(pid, nice int) error { return nil }

// stopProcess and continueProcess are Linux's: elsewhere idleProcess fails first, and
// a worker process is never held.
func stopProcess(p *os.Process) error { return errors.New("SIGSTOP is Linux's") }
func continueProcess(p *os.Process)   {}

// dutyCycle is Linux's: elsewhere idleProcess fails first, and a worker process is
// never held back.
func dutyCycle(p *os.Process, stop <-chan struct{}, done chan<- struct{}) {
	<-stop
	close(done)
}
