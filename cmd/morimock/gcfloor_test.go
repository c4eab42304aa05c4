package main

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestGCPercentFor: the heap goal is heapFloor while little is live, three times the
// live heap once that is larger, and bounded for a nearly empty heap.
func TestGCPercentFor(t *testing.T) {
	for _, tt := range []struct {
		live uint64
		want int
	}{
		{0, maxGCPercent},
		{1, maxGCPercent},
		{1 << 20, maxGCPercent}, // a 32 MiB goal would be 3,100 %
		{3 << 20, 966},          // 32/3 = 10.67 times
		{8 << 20, 300},
		{heapFloor / 3, 200},
		{64 << 20, baseGCPercent},
		{1 << 40, baseGCPercent},
	} {
		if got := gcPercentFor(tt.live); got != tt.want {
			t.Errorf("gcPercentFor(%d) = %d; want %d", tt.live, got, tt.want)
		}
	}
}

// TestGCFloorFollowsTheLiveHeap: after each collection the floor sets GOGC from what
// is live: high over a small heap, baseGCPercent while 64 MiB are held, high again
// once they are dropped.
func TestGCFloorFollowsTheLiveHeap(t *testing.T) {
	old := debug.SetGCPercent(100)
	f := startGCFloor()
	t.Cleanup(func() {
		f.stopped.Store(true)
		debug.SetGCPercent(old)
	})
	// waitFor collects until the floor has set a percent that meets ok.
	waitFor := func(what string, ok func(int) bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok(int(f.percent.Load())) {
			if time.Now().After(deadline) {
				t.Fatalf("GC percent %d after collections; want %s", f.percent.Load(), what)
			}
			runtime.GC()
			time.Sleep(time.Millisecond) // the finalizer runs on its own goroutine
		}
	}
	waitFor("over 200 with a small heap", func(p int) bool { return p > baseGCPercent })
	held := make([]byte, 64<<20)
	waitFor("200 with 64 MiB live", func(p int) bool { return p == baseGCPercent })
	runtime.KeepAlive(held)
	held = nil
	waitFor("over 200 once they are dropped", func(p int) bool { return p > baseGCPercent })
}
