//go:build !linux

package mockserver

// workerNice is 0 where the sandbox cannot lower one thread's priority: the image
// workers run as any goroutine does (see workthread_linux.go).
const workerNice = 0

func lowerWorkerThread() error { return nil }
