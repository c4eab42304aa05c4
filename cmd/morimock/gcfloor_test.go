package main

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestGCPercentFor: the heap goal, live + (live + roots) x GOGC/100, is heapFloor
// while little is live, three times the live heap (with its roots) once that is
// larger, and bounded for a nearly empty heap.
func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, tt := range []struct {
		live, roots uint64
		want        int
	}{
		{0, 0, maxGCPercent},
		{1, 0, maxGCPercent},
		{1 * mib, 1 * mib, maxGCPercent}, // 32 MiB would be 1,550 %
		{3 * mib, 0, 966},                // (32 - 3) / 3
		{3 * mib, 1 * mib, 725},          // (32 - 3) / 4
		{8 * mib, 0, 300},
		{10 * mib, 1 * mib, 200}, // (32 - 10) / 11
		{12 * mib, 0, baseGCPercent},
		{heapFloor, 0, baseGCPercent},
		{1 << 40, 1 << 20, baseGCPercent},
	} {
		if got := gcPercentFor(tt.live, tt.roots); got != tt.want {
			t.Errorf("gcPercentFor(%d, %d) = %d; want %d", tt.live, tt.roots, got, tt.want)
		}
	}
}

// TestGCFloorFollowsTheLiveHeap: after each collection the floor sets GOGC from what
// is live: high over a small heap, baseGCPercent while 64 MiB are held, high again
// once they are dropped.
func TestGCFloorFollowsTheLiveHeap(t *testing.T) {
	old := debug.SetGCPercent(100)
	f := startGCFloor()
	t.Cleanup(func() { f.stop(old) })
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
