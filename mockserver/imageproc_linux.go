//go:build linux

package mockserver

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// dutyOn and dutyOff are the slices a lowered image worker process runs and rests in
// while requests arrive quickly (see HoldProcess). A loop that worked 200 µs and slept 200 µs beside the
// server cost wrk's GETs nothing measurable at the 99th percentile, where one that
// never rests cost them 0.5-0.8 ms even at SCHED_IDLE (bench/imagelatency.sh, README).
const (
	dutyOn  = 200 * time.Microsecond
	dutyOff = dutyOn
)

// setDeathSignal has the kernel kill the process started by cmd when the thread that
// starts it ends: the image worker's, which lives as long as the worker, and ends
// with the sandbox even when the sandbox is killed.
func setDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

const schedIdle = 5 // SCHED_IDLE, from linux/sched.h

// idleProcess puts every thread of the process pid under SCHED_IDLE: it runs only
// when nothing else on its core wants to.
func idleProcess(pid int) error {
	return eachThread(pid, func(tid int) error {
		var param struct{ priority int32 }
		if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, uintptr(tid), schedIdle, uintptr(unsafe.Pointer(&param))); e != 0 {
			return fmt.Errorf("SCHED_IDLE for the image worker process: %w", e)
		}
		return nil
	})
}

// niceProcess sets the niceness of every thread of the process pid (Linux's is a
// thread's, not a process's).
func niceProcess(pid, nice int) error {
	return eachThread(pid, func(tid int) error {
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil {
			return fmt.Errorf("niceness of the image worker process: %w", err)
		}
		return nil
	})
}

// eachThread calls set for each thread of the process pid. Threads the process starts
// later are cloned from one of them and inherit what set did; the second pass catches
// those started during the first. A thread that ended meanwhile (ESRCH) is passed.
func eachThread(pid int, set func(tid int) error) error {
	for range 2 {
		tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
		if err != nil {
			return err
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := set(tid); err != nil && !errors.Is(err, syscall.ESRCH) {
				return err
			}
		}
	}
	return nil
}

// holder is the process that stops and continues an image worker process while
// requests are busy: `morimock image-worker hold PID`, running HoldProcess. It is a
// process of its own, at the server's niceness: a thread of the server sleeping
// between two signals holds a P, which on a one-core server is the requests' only
// one, and a Go timer of under a millisecond may wait a millisecond for the poller.
type holder struct {
	cmd    *exec.Cmd
	in     *os.File      // commands: holdRun, holdHalt
	exited chan struct{} // closed once Wait returned
}

// The holder's commands, a byte each.
const (
	holdRun  = 'r' // stop and continue the process in turns
	holdHalt = 'h' // leave it running
)

// startHolder starts p's holder; nil when it cannot be (p then runs at SCHED_IDLE
// alone while requests are busy).
func startHolder(newCmd func(...string) *exec.Cmd, p *imageProc) *holder {
	pid := p.cmd.Process.Pid
	cmd := newCmd("hold", strconv.Itoa(pid))
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil
	}
	cmd.Stdin = inR
	setDeathSignal(cmd)
	err = cmd.Start()
	inR.Close()
	if err != nil {
		inW.Close()
		return nil
	}
	h := &holder{cmd: cmd, in: inW, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		select {
		case <-p.exited:
		default:
			syscall.Kill(pid, syscall.SIGCONT) // a holder that died never leaves p stopped
		}
		close(h.exited)
	}()
	return h
}

func (h *holder) send(c byte) error {
	if h == nil {
		return nil
	}
	_, err := h.in.Write([]byte{c})
	return err
}

// end ends the holder, before its process is ended.
func (h *holder) end() {
	if h == nil {
		return
	}
	h.in.Close()
	h.cmd.Process.Kill()
	<-h.exited
}

// HoldProcess is the body of an image worker process's holder (`morimock image-worker
// hold PID`): it reads holdRun and holdHalt from ctrl; between a holdRun and the next
// holdHalt, it stops the process pid with SIGSTOP and continues it with SIGCONT in
// turns, letting it run dutyOn and rest dutyOff. It leaves pid running and returns
// when ctrl ends or pid does.
func HoldProcess(pid int, ctrl *os.File) error {
	if pid <= 1 {
		return fmt.Errorf("hold: pid %d", pid)
	}
	runtime.LockOSThread() // its sleeps are nanosleep on this thread, microseconds exact
	defer syscall.Kill(pid, syscall.SIGCONT)
	fd := int(ctrl.Fd())
	sleep := func(d time.Duration) {
		ts := syscall.NsecToTimespec(int64(d))
		for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
		}
	}
	var cmds [64]byte
	running := false
	for {
		if err := syscall.SetNonblock(fd, running); err != nil {
			return err
		}
		if !running {
			n, err := syscall.Read(fd, cmds[:]) // waits for a command
			if n <= 0 {
				if err == syscall.EINTR {
					continue
				}
				return err // nil: the server closed it
			}
			running = cmds[n-1] == holdRun
			continue
		}
		for running {
			sleep(dutyOn)
			if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
				return nil // the process ended
			}
			sleep(dutyOff)
			syscall.Kill(pid, syscall.SIGCONT)
			n, err := syscall.Read(fd, cmds[:])
			switch {
			case n > 0:
				running = cmds[n-1] == holdRun
			case n == 0 && err == nil:
				return nil // the server closed it
			case err != syscall.EAGAIN && err != syscall.EINTR:
				return err
			}
		}
	}
}
