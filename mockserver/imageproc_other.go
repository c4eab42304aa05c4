//go:build !linux

package mockserver

import (
	"errors"
	"os"
	"os/exec"
)

// DefaultImageWork is where images are processed unless told (serve's --image-work):
// in the server here, where a worker process cannot be held back.
const DefaultImageWork = "inline"

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
