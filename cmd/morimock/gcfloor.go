package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// serve's garbage collection, unless GOGC is set (then it is Go's to apply): collect
// when the heap reaches three times what the last collection left live (GOGC=200), or
// about heapFloor, whichever is larger (less for a nearly empty heap: GOGC stays at
// most maxGCPercent).
//
// The heap serve keeps live is small: about 3 MB under bench/run.sh's validated load,
// which allocates about 85 MB a second. At GOGC=200 alone its goal is then 10 MB, and
// the collector ran 19 times a second (GODEBUG=gctrace=1); with the floor it runs 4
// times. A large live heap (the in-memory store full of files, an image decoded
// inline) is collected at three times its size as before: the floor costs memory only
// while little is live, 32 MiB at most (60 MB resident under that load, not 34 MB).
// The validated server under that load, 6 rounds of 6 s interleaved on one core:
// 18,100 requests/s at GOGC=200, 19,900 with the floor.
const (
	heapFloor     = 32 << 20
	baseGCPercent = 200
	maxGCPercent  = 1000 // a nearly empty heap: its goal stays under the floor
)

// The figures Go's heap goal is made of: the goal is live + (live + stacks + globals)
// x GOGC/100.
var gcMetrics = [...]string{"/gc/heap/live:bytes", "/gc/scan/stack:bytes", "/gc/scan/globals:bytes"}

// gcPercentFor is the GOGC that puts the heap goal at heapFloor, after a collection
// that left live bytes of heap and roots bytes of stacks and globals to scan, but
// never under baseGCPercent or over maxGCPercent.
func gcPercentFor(live, roots uint64) int {
	scan := live + roots
	if live >= heapFloor {
		return baseGCPercent
	}
	if scan == 0 || (heapFloor-live)*100/scan >= maxGCPercent {
		return maxGCPercent
	}
	return max(baseGCPercent, int((heapFloor-live)*100/scan)) // under 1,000: an int even on 32 bits
}

// tunesGC says whether main runs the heap floor for these arguments: for serve,
// unless GOGC is set. It is main's to do, not run's: it is a setting of the whole
// process.
func tunesGC(args []string, getenv func(string) string) bool {
	return len(args) > 0 && args[0] == "serve" && getenv("GOGC") == ""
}

// gcFloor sets the GC percent after every collection, from what it left live. It
// learns that a collection ended from the finalizer of an object it drops each time
// (a finalizer runs once a collection has found its object unreachable).
type gcFloor struct {
	sample  []metrics.Sample
	percent atomic.Int64 // what it last set
	mu      sync.Mutex   // orders set and stop
	stopped bool         // for tests: it sets nothing more
}

// gcSentinel is the dropped object: large enough and with a pointer, so it is an
// allocation of its own (the tiny allocator batches smaller ones, whose finalizers
// may never run).
type gcSentinel struct {
	_ [16]byte
	_ *byte
}

func startGCFloor() *gcFloor {
	f := &gcFloor{}
	for _, name := range gcMetrics {
		f.sample = append(f.sample, metrics.Sample{Name: name})
	}
	f.set(baseGCPercent)
	f.arm()
	return f
}

func (f *gcFloor) set(p int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.stopped && int64(p) != f.percent.Load() {
		debug.SetGCPercent(p)
		f.percent.Store(int64(p))
	}
}

// stop sets GOGC to p and leaves it there (for tests, which share a process).
func (f *gcFloor) stop(p int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	debug.SetGCPercent(p)
}

func (f *gcFloor) arm() {
	f.mu.Lock()
	stopped := f.stopped
	f.mu.Unlock()
	if stopped {
		return
	}
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
		if live, roots, ok := f.read(); ok {
			f.set(gcPercentFor(live, roots))
		}
		f.arm()
	})
}

// read returns the live heap the last collection left and the stacks and globals
// beside it; false when this Go lacks one of the metrics (GOGC is then left alone).
func (f *gcFloor) read() (live, roots uint64, ok bool) {
	metrics.Read(f.sample)
	var v [len(gcMetrics)]uint64
	for i, s := range f.sample {
		if s.Value.Kind() != metrics.KindUint64 {
			return 0, 0, false
		}
		v[i] = s.Value.Uint64()
	}
	return v[0], v[1] + v[2], true
}
