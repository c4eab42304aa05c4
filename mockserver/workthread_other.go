//go:build !linux

package mockserver

// workerNice and busyNice are 0 where the sandbox cannot lower one thread's
// priority: the image workers run as any goroutine does (see workthread_linux.go).
const (
	workerNice = 0
	busyNice   = 0
)

func lowerWorkerThread() (tid int, err error) { return 0, nil }

func lowerThread(tid, nice int) error { return nil }
