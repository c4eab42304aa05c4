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
// while requests arrive quickly and it is not held (see imageProcs.busy, dutyCycle). A loop that worked 200 µs and slept 200 µs beside the
// server cost wrk's GETs nothing measurable at the 99th percentile, where one that
// never rests cost them 0.5-0.8 ms even at SCHED_IDLE (bench/imagelatency.sh, README).
// DefaultImageWork is where images are processed unless told (serve's --image-work):
// in worker processes, which the sandbox can hold back here (SIGSTOP, SCHED_IDLE).
const DefaultImageWork = "process"

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

// stopProcess stops the process p (SIGSTOP, through its pidfd) until
// continueProcess.
func stopProcess(p *os.Process) error { return p.Signal(syscall.SIGSTOP) }

func continueProcess(p *os.Process) { p.Signal(syscall.SIGCONT) }

// dutyCycle stops and continues the process p in turns, letting it run dutyOn and
// rest dutyOff, until stop is closed; it then continues it and closes done. It runs
// on a thread of its own, whose sleeps (nanosleep) end within microseconds, where a
// Go timer of under a millisecond may wait a millisecond for the network poller. The
// thread holds a P while it sleeps: requests get one more meanwhile (LongWork, see
// imageProcs.busy).
// The signals go through the process's pidfd, so never to another process that got
// its pid after it ended.
func dutyCycle(p *os.Process, stop <-chan struct{}, done chan<- struct{}) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(done)
	defer p.Signal(syscall.SIGCONT)
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
		if p.Signal(syscall.SIGSTOP) != nil {
			<-stop // the process ended
			return
		}
		sleep(dutyOff)
		p.Signal(syscall.SIGCONT)
	}
}
