//go:build linux

package mockserver

import (
	"context"
	"fmt"
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

// threadSelf reads the calling thread's id and niceness from /proc/thread-self/stat.
func threadSelf() (tid, nice int, err error) {
	stat, err := os.ReadFile("/proc/thread-self/stat")
	if err != nil {
		return 0, 0, err
	}
	// pid (comm) state ppid ...: the thread's id is the first field, its nice the
	// 19th, the 17th after comm, whose name may hold spaces and parentheses.
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 17 {
		return 0, 0, fmt.Errorf("/proc/thread-self/stat = %q: too few fields", s)
	}
	if tid, err = strconv.Atoi(strings.Fields(s)[0]); err != nil {
		return 0, 0, err
	}
	nice, err = strconv.Atoi(fields[16])
	return tid, nice, err
}
