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

// lowerWorkerThread runs the calling goroutine, for the rest of its life, on an OS
// thread of its own at workerNice. The goroutine must never call
// runtime.UnlockOSThread: when it returns, Go ends the thread with it, so the lowered
// priority never reaches another goroutine (threads Go starts later are cloned from
// a clean template thread, not from a locked one).
func lowerWorkerThread() error {
	runtime.LockOSThread()
	return syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), workerNice)
}
