//go:build linux

package mockserver

import (
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
// while requests arrive quickly. A loop that worked 200 µs and slept 200 µs beside the
// server cost wrk's GETs nothing measurable at the 99th percentile, where one that
// never rests cost them 0.5-0.8 ms even at SCHED_IDLE (bench/imagelatency.sh, README).
const (
	dutyOn  = 200 * time.Microsecond
	dutyOff = 200 * time.Microsecond
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
// when nothing else on its core wants to. Threads the process starts later inherit
// it; the second pass catches those started during the first.
func idleProcess(pid int) error {
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
			var param struct{ priority int32 }
			_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, uintptr(tid), schedIdle, uintptr(unsafe.Pointer(&param)))
			if e != 0 && e != syscall.ESRCH { // ESRCH: the thread ended meanwhile
				return fmt.Errorf("SCHED_IDLE for the image worker process: %w", e)
			}
		}
	}
	return nil
}

// dutyCycle stops and continues the process pid in turns, running dutyOn and
// resting dutyOff, until stop is closed; it then continues it and closes done. It
// runs on a thread of its own, whose sleeps (nanosleep) end within microseconds,
// where a Go timer may wait for the next poll of the network.
func dutyCycle(pid int, stop <-chan struct{}, done chan<- struct{}) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(done)
	defer syscall.Kill(pid, syscall.SIGCONT)
	sleep := func(d time.Duration) {
		ts := syscall.NsecToTimespec(int64(d))
		for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
		}
	}
	for {
		select {
		case <-stop:
			return
		default:
		}
		sleep(dutyOn)
		if syscall.Kill(pid, syscall.SIGSTOP) != nil {
			return // ended
		}
		sleep(dutyOff)
		syscall.Kill(pid, syscall.SIGCONT)
	}
}
