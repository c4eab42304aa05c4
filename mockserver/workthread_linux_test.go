//go:build linux

package mockserver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/morimock/morimock/mockserver/store"
	"github.com/morimock/morimock/order"
)

// threadSpy is a store that notes the thread each image worker reads an order on
// (the work of an order starts with that read, on the worker's goroutine), and holds
// every worker there until all have arrived, so each order has a worker of its own.
type threadSpy struct {
	store.Store
	tenant  string
	arrived chan thread
	release chan struct{}
}

type thread struct{ tid, nice int }

func (s *threadSpy) GetOrder(ctx context.Context, tenant, id string) (order.Record, error) {
	if tenant == s.tenant {
		tid, nice, err := threadSelf()
		if err != nil {
			return order.Record{}, err
		}
		s.arrived <- thread{tid, nice}
		<-s.release
	}
	return s.Store.GetOrder(ctx, tenant, id)
}

// TestImageWorkersRunOnNicedThreads: each image worker does its work on an OS thread
// of its own at workerNice, so a busy worker yields the core to requests; the other
// threads keep their priority.
func TestImageWorkersRunOnNicedThreads(t *testing.T) {
	mem, err := store.NewMemory(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const workers = 3
	spy := &threadSpy{Store: mem, tenant: "niced", arrived: make(chan thread), release: make(chan struct{})}
	s := newServer(t, Config{Store: spy, ImageWorkers: workers})
	sb, err := s.sandbox(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range workers {
		s.kick(sb, spy.tenant, strconv.Itoa(i)) // no such order: the work ends after the read
	}
	tids := map[int]bool{}
	for range workers {
		select {
		case th := <-spy.arrived:
			if th.nice != workerNice {
				t.Errorf("nice of an image worker's thread = %d; want %d", th.nice, workerNice)
			}
			tids[th.tid] = true
		case <-time.After(time.Minute): // a guard against a hang, not a measure
			t.Fatalf("%d of %d image workers read their order", len(tids), workers)
		}
	}
	close(spy.release)
	if len(tids) != workers {
		t.Errorf("%d image workers ran on %d threads; want a thread each", workers, len(tids))
	}
	if err := s.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread() // this goroutine's thread, for the length of the check
	defer runtime.UnlockOSThread()
	if _, nice, err := threadSelf(); err != nil || nice != 0 {
		t.Errorf("nice of the test's own thread = %d, %v; want 0: a worker's priority reached another goroutine", nice, err)
	}
}

// watchTicks puts the ticks of a long job's watch in the test's hand: cfg gets the
// channels, and tick has the watch count the requests so far, false if no watch does
// (a guard against a hang, not a measure).
func watchTicks(t *testing.T, cfg *Config) (tick func() bool) {
	ticks, counted := make(chan time.Time), make(chan struct{})
	cfg.testBusyTicks, cfg.testBusyCounted = ticks, counted
	return func() bool {
		select {
		case ticks <- time.Time{}:
		case <-time.After(time.Minute):
			t.Error("no watch of the long job's requests took a tick")
			return false
		}
		select {
		case <-counted:
			return true
		case <-time.After(time.Minute):
			t.Error("the watch of the long job's requests did not count a tick")
			return false
		}
	}
}

// statFields are the fields of a /proc stat line after comm, whose name may hold
// spaces and parentheses: [0] is field 3 of proc(5), the state.
func statFields(stat string) []string {
	return strings.Fields(stat[strings.LastIndexByte(stat, ')')+1:])
}

// threadSelf reads the calling thread's id and niceness from /proc/thread-self/stat.
func threadSelf() (tid, nice int, err error) {
	stat, err := os.ReadFile("/proc/thread-self/stat")
	if err != nil {
		return 0, 0, err
	}
	// pid (comm) state ppid ...: the thread's id is the first field, its nice the
	// 19th.
	s := string(stat)
	fields := statFields(s)
	if len(fields) < 17 {
		return 0, 0, fmt.Errorf("/proc/thread-self/stat = %q: too few fields", s)
	}
	if tid, err = strconv.Atoi(strings.Fields(s)[0]); err != nil {
		return 0, 0, err
	}
	nice, err = strconv.Atoi(fields[16])
	return tid, nice, err
}

// TestBusyRequestsLowerALongJob: while requests arrive at busyRequests a tick, the
// thread doing a long job is lowered to busyNice, and fewer requests leave it at
// workerNice; the worker then ends that thread, and the next long job runs on a new
// one at workerNice.
func TestBusyRequestsLowerALongJob(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	type seen struct{ tid, before, quiet, busy int }
	seenc := make(chan seen, 2)
	var c *sbx
	var cfg Config
	tick := watchTicks(t, &cfg)
	// LongWork(true) runs on the worker's thread while the requests are watched.
	cfg.LongWork = func(start bool) {
		if !start {
			return
		}
		serve := func(n int) {
			for range n {
				c.srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v2/orders/1", nil))
			}
		}
		var v seen
		var err error
		if v.tid, v.before, err = threadSelf(); err != nil {
			t.Error(err)
		}
		serve(busyRequests - 1)
		if tick() {
			_, v.quiet, _ = threadSelf()
			serve(busyRequests)
			tick()
		}
		_, v.busy, _ = threadSelf()
		seenc <- v
	}
	c = startSandbox(t, cfg)
	c.antiAI(liveKey, "first", "p.png", largePNG(t))
	c.antiAI(liveKey, "second", "p.png", largePNG(t))
	first, second := <-seenc, <-seenc
	if first.before != workerNice || first.quiet != workerNice {
		t.Errorf("nice of a long job's thread = %d at its start, %d after %d requests in a tick; want %d", first.before, first.quiet, busyRequests-1, workerNice)
	}
	if first.busy != busyNice {
		t.Errorf("nice of a long job's thread after %d requests in a tick = %d; want %d", busyRequests, first.busy, busyNice)
	}
	if second.before != workerNice {
		t.Errorf("nice of the next long job's thread = %d; want %d", second.before, workerNice)
	}
	if second.tid == first.tid {
		t.Errorf("the next long job ran on the lowered thread %d; want a new one", first.tid)
	}
}
