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
// hands the worker a share of a busy core, a tick (4 ms) at a time, and a GET waits
// behind it: bench/imagelatency.sh measured a p99 of 2.5-3.1 ms against 1.0-1.3 ms
// at nice 19 (weight 15). It is not the job's niceness from the start because on a
// core busy with other programs, a CI runner compiling say, nice 19 gets a sixth of
// what nice 10 gets: a 12-megapixel photo took 48 s against 7 s beside one busy
// process.
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
// niceness is allowed to any program; lowering it back is not (without
// CAP_SYS_NICE), so a worker whose thread was lowered ends it (see worker).
func lowerThread(tid, nice int) error {
	return syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice)
}
