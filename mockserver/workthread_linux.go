//go:build linux

package mockserver

import (
	"runtime"
	"syscall"
)

// workerNice is the niceness of an image worker's thread. Linux's scheduler then
// gives a request's thread about nine tenths of a core they share (nice 0 weighs
// 1024, nice 10 weighs 110), so a GET that wakes while a 12-megapixel photo is
// being encoded runs at once instead of waiting for Go to preempt the worker (every
// 10 ms). The worker still takes every cycle nothing else wants.
const workerNice = 10

// busyNice is the niceness a worker's thread is lowered to while requests arrive
// quickly during a long job (see watchRequests). At nice 10 the scheduler still
// hands the worker a share of a core the requests keep busy, a tick at a time, and a
// GET waits behind it; nice 19 (weight 15) has a seventh of that share. It is not the
// job's niceness from the start because beside other busy programs, a CI runner
// compiling say, the job then gets a seventh of the core too. The README's
// Performance section (Real files) has the measurements.
const busyNice = 19

// lowerWorkerThread runs the calling goroutine, for the rest of its life, on an OS
// thread of its own at workerNice, and returns the thread's id. The goroutine must
// never call runtime.UnlockOSThread: when it returns, Go ends the thread with it, so
// the lowered priority never reaches another goroutine (threads Go starts later are
// cloned from a clean template thread, not from a locked one).
func lowerWorkerThread() (tid int, err error) {
	runtime.LockOSThread()
	tid = syscall.Gettid()
	return tid, syscall.Setpriority(syscall.PRIO_PROCESS, tid, workerNice)
}

// lowerThread sets the niceness of the thread tid of this process to nice. Raising a
// niceness is allowed to any program; taking it back down is not (without
// CAP_SYS_NICE or RLIMIT_NICE), so a worker whose thread was lowered ends it (see
// worker).
func lowerThread(tid, nice int) error {
	return syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice)
}
