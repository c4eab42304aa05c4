//go:build linux

package main

import (
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

// schedIdle is Linux's SCHED_IDLE policy: a thread that runs only when no other
// wants its core, and that any other preempts the moment it wakes, with no slice of
// its own to finish first.
const schedIdle = 5

// lowerProcess puts every thread of the process under SCHED_IDLE (nice 19 where that
// is refused); threads started later inherit it from the thread that starts them.
// Linux keeps a policy per thread, so each is set: twice over, for a thread started
// while the first pass ran.
func lowerProcess() {
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			param := struct{ priority int32 }{0}
			_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, uintptr(tid), schedIdle, uintptr(unsafe.Pointer(&param)))
			if errno != 0 {
				_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, 19)
			}
		}
	}
}
