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

// holder is Linux's: elsewhere a worker process is never held back.
type holder struct{}

const (
	holdRun  = 'r'
	holdHalt = 'h'
)

func startHolder(newCmd func(...string) *exec.Cmd, p *imageProc) *holder { return nil }
func (h *holder) send(c byte) error                                      { return nil }
func (h *holder) end()                                                   {}

// HoldProcess is Linux's.
func HoldProcess(pid int, ctrl *os.File) error {
	return errors.New("image-worker hold: Linux only")
}
