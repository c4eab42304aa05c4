//go:build linux

package mockserver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/morimock/morimock/mockserver/files"
)

// procThreads is the policy and niceness of each thread of process pid, and the state
// letter of its main thread ('T' when stopped).
func procThreads(pid int) (state byte, policies, nices []int, err error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task/"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, nil, nil, err
	}
	for _, task := range tasks {
		b, err := os.ReadFile(dir + task.Name() + "/stat")
		if err != nil {
			continue // ended meanwhile
		}
		s := string(b)
		fields := statFields(s)
		if len(fields) < 39 {
			return 0, nil, nil, fmt.Errorf("%s/stat = %q: too few fields", task.Name(), s)
		}
		nice, _ := strconv.Atoi(fields[16])   // field 19
		policy, _ := strconv.Atoi(fields[38]) // field 41
		nices, policies = append(nices, nice), append(policies, policy)
		if task.Name() == strconv.Itoa(pid) {
			state = fields[0][0]
		}
	}
	return state, policies, nices, nil
}

// allAre reports whether every value in vs is want.
func allAre(vs []int, want int) bool {
	for _, v := range vs {
		if v != want {
			return false
		}
	}
	return len(vs) > 0
}

// waitState polls the main thread of pid until stopped (or not) is what its state
// says, for at most a few seconds, and reports whether it got there: the process is
// stopped and continued by another goroutine, so this waits on it, not on a clock.
func waitState(pid int, stopped bool) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		state, _, _, err := procThreads(pid)
		if err != nil {
			return false
		}
		if (state == 'T') == stopped {
			return true
		}
	}
	return false
}

// stillStopped reports whether the main thread of pid is stopped at each of n reads
// of its state in a row: held, not stopped and continued in turns (a duty cycle's
// turns last 200 µs, a few of these reads).
func stillStopped(pid, n int) bool {
	for range n {
		if state, _, _, err := procThreads(pid); err != nil || state != 'T' {
			return false
		}
	}
	return true
}

// heldRig is a sandbox whose image worker processes are the test binary's (mode
// "serve"), whose watch takes the test's ticks, and whose LongWork calls are kept.
type heldRig struct {
	c        *sbx
	tick     func() bool
	mu       sync.Mutex
	cmds     []*exec.Cmd
	longWork []bool
}

// newHeldRig sets cfg up for the rig; the caller sets cfg.testWatched and starts the
// sandbox into rig.c.
func newHeldRig(t *testing.T, cfg *Config) *heldRig {
	r := &heldRig{tick: watchTicks(t, cfg)}
	cfg.LongWork = func(start bool) {
		r.mu.Lock()
		r.longWork = append(r.longWork, start)
		r.mu.Unlock()
	}
	cfg.ImageProcess = func() *exec.Cmd {
		cmd := testImageProcess("serve")()
		r.mu.Lock()
		r.cmds = append(r.cmds, cmd)
		r.mu.Unlock()
		return cmd
	}
	return r
}

// pid is the latest worker process's.
func (r *heldRig) pid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cmds[len(r.cmds)-1].Process.Pid
}

// checkLongWork says whether LongWork was called with want so far.
func (r *heldRig) checkLongWork(t *testing.T, when string, want ...bool) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if fmt.Sprint(r.longWork) != fmt.Sprint(want) {
		t.Errorf("%s: LongWork called with %v; want %v", when, r.longWork, want)
	}
}

// busy serves busyRequests GETs of an order no key has, then a tick: a busy one.
func (r *heldRig) busy() {
	for range busyRequests {
		r.c.srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v2/orders/1", nil))
	}
	r.tick()
}

// pollWatched serves busyRequests GETs of the order whose job is watched, as its
// client polling it in a loop would.
func pollWatched(t *testing.T, c *sbx) {
	var id string
	c.srv.polled.Range(func(k, _ any) bool { id = k.(workKey).id; return false })
	if id == "" {
		t.Error("no order is watched for its polls")
		return
	}
	for range busyRequests {
		req := httptest.NewRequest(http.MethodGet, "/api/v2/orders/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+liveKey)
		rec := httptest.NewRecorder()
		c.srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("GET of the watched order: %d %s", rec.Code, rec.Body)
		}
	}
}

// TestBusyRequestsHoldBackTheImageProcess: while requests arrive at busyRequests a tick
// during a long job, the image worker process is lowered to SCHED_IDLE (every thread)
// and held, stopped, for holdMax at most; a quieter tick leaves it running. Once held
// for holdMax, it is stopped and continued in turns while requests stay busy, with
// LongWork on. A lowered process serves the next job only while requests were busy
// when the last one ended, a long job held from the start, a small one in the duty
// cycle; otherwise a new one at workerNice does.
func TestBusyRequestsHoldBackTheImageProcess(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	// check says what the process is at a point of a job.
	check := func(job int, when string, pid, wantPolicy, wantNice int) {
		_, policies, nices, err := procThreads(pid)
		if err != nil {
			t.Errorf("job %d, %s: %v", job, when, err)
			return
		}
		if !allAre(policies, wantPolicy) || (wantPolicy == 0 && !allAre(nices, wantNice)) {
			t.Errorf("job %d, %s: the process's threads have policies %v, nices %v; want policy %d, nice %d", job, when, policies, nices, wantPolicy, wantNice)
		}
	}
	pids := make([]int, 5)
	jobs := 0
	cfg := Config{testStillBusy: time.Hour, testHoldMax: 2 * busyTick}
	r := newHeldRig(t, &cfg)
	tick, busy := r.tick, r.busy
	serve := func(n int) {
		for range n {
			r.c.srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v2/orders/1", nil))
		}
	}
	checkLongWork := func(job int, when string, want ...bool) {
		r.checkLongWork(t, fmt.Sprintf("job %d, %s", job, when), want...)
	}
	// testWatched runs on the worker's goroutine, the process started, while the
	// requests are watched and before the job is sent.
	cfg.testWatched = func() {
		jobs++
		pid := r.pid()
		pids[jobs] = pid
		switch jobs {
		case 1:
			check(1, "at its start", pid, 0, workerNice)
			serve(busyRequests - 1)
			tick()
			check(1, fmt.Sprintf("after %d requests in a tick", busyRequests-1), pid, 0, workerNice)
			busy()
			check(1, fmt.Sprintf("after %d requests in a tick", busyRequests), pid, schedIdle, 0)
			if !waitState(pid, true) {
				t.Error("job 1: the process was never stopped while requests were busy")
			}
			busy() // held for one tick of the two it may be
			if !stillStopped(pid, 50) {
				t.Error("job 1: the process was not held while requests were busy")
			}
			tick() // one quiet tick: still held
			check(1, "after a quiet tick", pid, schedIdle, 0)
			if !stillStopped(pid, 50) {
				t.Error("job 1: the process was not held after one quiet tick")
			}
			for range quietTicks - 1 {
				tick()
			}
			if !waitState(pid, false) {
				t.Errorf("job 1: the process stayed stopped after %d quiet ticks", quietTicks)
			}
			checkLongWork(1, "never held for holdMax")
		case 2:
			check(2, "at its start, after a job that ended quiet", pid, 0, workerNice)
			busy()
			if !waitState(pid, true) {
				t.Error("job 2: the process was never stopped while requests were busy")
			}
			busy()
			busy() // held for holdMax: the duty cycle, to the end of the job
			if !waitState(pid, false) {
				t.Error("job 2: the process was not continued once held for holdMax")
			}
			checkLongWork(2, "in the duty cycle", true)
		case 3:
			checkLongWork(3, "at its start, after a job that ended in the duty cycle", true, false)
			check(3, "at its start, after a job that ended busy", pid, schedIdle, 0)
			if !waitState(pid, true) || !stillStopped(pid, 50) {
				t.Error("job 3: the process was not held from its start")
			}
			busy()
			busy() // held for holdMax since the job started: it ends in the duty cycle
		case 4:
			// A small input, done by the lowered process: watched all the same, and in
			// the duty cycle from its start, never held.
			check(4, "at its start, a small job after a job that ended busy", pid, schedIdle, 0)
			checkLongWork(4, "at its start, a small job while requests are busy", true, false, true, false, true)
			for range quietTicks {
				tick() // quiet: it runs freely to the end of the job
			}
			checkLongWork(4, "after three jobs that ended in the duty cycle", true, false, true, false, true, false)
		}
	}
	r.c = startSandbox(t, cfg)
	c := r.c
	for i := range 4 {
		data := largePNGOf(t, byte('a'+i)) // other bytes: no cached outputs
		if i == 3 {
			data = testImage(t, files.PNG)
		}
		id := c.antiAI(liveKey, fmt.Sprint("job", i), "p.png", data)
		if d := c.get(liveKey, id); d.Status != "complete" {
			t.Errorf("order of job %d = %+v; want complete", i+1, d)
		}
	}
	if jobs != 4 {
		t.Fatalf("%d watched jobs seen; want 4", jobs)
	}
	if pids[4] != pids[3] {
		t.Errorf("job 4 ran in process %d; want job 3's lowered one, %d", pids[4], pids[3])
	}
	if pids[2] == pids[1] {
		t.Errorf("job 2 ran in the process lowered in job 1 (%d); want a new one", pids[1])
	}
	if pids[3] != pids[2] {
		t.Errorf("job 3 ran in process %d; want job 2's lowered one, %d, while requests were busy", pids[3], pids[2])
	}
}

// TestQuietRequestsStartALoweredJobOver: once requests have been quiet for restartTicks
// while a lowered process does a job, that process is ended and the job starts over,
// once, in a new one at workerNice, which can no longer wait behind another busy
// program; the order completes.
func TestQuietRequestsStartALoweredJobOver(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	held := filepath.Join(t.TempDir(), "held")
	var mu sync.Mutex
	var cmds []*exec.Cmd
	var c *sbx
	cfg := Config{testStillBusy: time.Hour}
	tick := watchTicks(t, &cfg)
	cfg.ImageProcess = func() *exec.Cmd {
		mu.Lock()
		defer mu.Unlock()
		mode := "serve"
		if len(cmds) == 0 {
			mode = "hold" // the first process takes the job and never answers
		}
		cmd := testImageProcess(mode)()
		cmd.Env = append(cmd.Env, testHoldEnv+"="+held)
		cmds = append(cmds, cmd)
		return cmd
	}
	lowered, ticked := make(chan struct{}), make(chan struct{})
	cfg.testWatched = func() {
		// Busy with the order's own polls: lowered, and in the duty cycle rather than
		// held, so that the process takes the job.
		pollWatched(t, c)
		tick()
		close(lowered)
	}
	go func() {
		defer close(ticked)
		<-lowered
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if _, err := os.Stat(held); err == nil {
				break // the lowered process has the job; waiting on it, not on a clock
			}
		}
		for range restartTicks - 1 {
			tick() // quiet from here
		}
		mu.Lock()
		procs := len(cmds)
		mu.Unlock()
		if procs != 1 {
			t.Errorf("%d worker processes after %d quiet ticks; want 1", procs, restartTicks-1)
		}
		tick() // quiet for restartTicks: started over
	}()
	c = startSandbox(t, cfg)
	id := c.antiAI(liveKey, "over", "p.png", largePNG(t))
	if d := c.get(liveKey, id); d.Status != "complete" {
		t.Errorf("order whose job started over = %+v; want complete", d)
	}
	<-ticked
	if _, err := os.Stat(held); err != nil {
		t.Errorf("the lowered process never took the job: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(cmds) != 2 {
		t.Fatalf("%d worker processes started; want 2, the second for the job started over", len(cmds))
	}
	_, policies, nices, err := procThreads(cmds[1].Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if !allAre(policies, 0) || !allAre(nices, workerNice) {
		t.Errorf("the process the job started over in has policies %v, nices %v; want 0 and %d", policies, nices, workerNice)
	}
}

// TestPolledOrderIsNotHeld: when the requests that make the server busy are GETs of
// the very order whose job runs (a client polling it in a loop), the job's process is
// not held, stopped, for them to wait on: it runs in the duty cycle from that tick,
// lowered to SCHED_IDLE, with LongWork on until requests are quiet. That holds for a
// job held from its start too, whose order is then polled.
func TestPolledOrderIsNotHeld(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	cfg := Config{testStillBusy: time.Hour}
	r := newHeldRig(t, &cfg)
	poll := func() { pollWatched(t, r.c); r.tick() }
	jobs := 0
	cfg.testWatched = func() {
		jobs++
		pid := r.pid()
		if jobs == 2 {
			// Requests were busy when job 1 ended: this one starts held.
			if !waitState(pid, true) {
				t.Error("job 2: the process was not held from its start")
			}
			r.checkLongWork(t, "job 2, held at its start", true, false)
		}
		poll()
		_, policies, _, err := procThreads(pid)
		if err != nil || !allAre(policies, schedIdle) {
			t.Errorf("job %d: after its order was polled busily, the process's threads have policies %v (%v); want %d", jobs, policies, err, schedIdle)
		}
		if !waitState(pid, false) {
			t.Errorf("job %d: the process of a job whose order is polled busily stayed stopped", jobs)
		}
		if jobs == 1 {
			r.checkLongWork(t, "job 1, its order polled busily", true)
			return // still busy as it ends: job 2 starts held
		}
		r.checkLongWork(t, "job 2, its order polled busily", true, false, true)
		for range quietTicks {
			r.tick() // quiet: the job runs freely to its end, held or not
		}
		r.checkLongWork(t, "job 2, quiet", true, false, true, false)
	}
	r.c = startSandbox(t, cfg)
	for i := range 2 {
		id := r.c.antiAI(liveKey, fmt.Sprint("polled", i), "p.png", largePNGOf(t, byte('a'+i)))
		if d := r.c.get(liveKey, id); d.Status != "complete" {
			t.Errorf("order %d = %+v; want complete", i+1, d)
		}
	}
}

// TestQuietTicksCountTowardTheHold: the ticks a held process stays stopped through
// count toward holdMax, quiet ones too, so that a load hovering about the busy rate
// holds a job no longer than one that stays above it.
func TestQuietTicksCountTowardTheHold(t *testing.T) {
	t.Parallel() // its own server; shares only the read-only spec
	cfg := Config{testStillBusy: time.Hour, testHoldMax: 3 * busyTick}
	r := newHeldRig(t, &cfg)
	cfg.testWatched = func() {
		pid := r.pid()
		r.busy() // held
		if !waitState(pid, true) {
			t.Error("the process was never stopped while requests were busy")
		}
		r.tick()
		r.tick() // two quiet ticks, fewer than quietTicks: still held, 20 ms in all
		if !stillStopped(pid, 50) {
			t.Error("the process was not held through two quiet ticks")
		}
		r.checkLongWork(t, "held through two quiet ticks")
		r.busy() // held for 30 ms: holdMax
		r.checkLongWork(t, "held for holdMax, a busy tick and two quiet ones", true)
		if !waitState(pid, false) {
			t.Error("the process stayed stopped once held for holdMax")
		}
		for range quietTicks {
			r.tick() // quiet: the job runs freely to its end, held or not
		}
	}
	r.c = startSandbox(t, cfg)
	id := r.c.antiAI(liveKey, "hovering", "p.png", largePNG(t))
	if d := r.c.get(liveKey, id); d.Status != "complete" {
		t.Errorf("order = %+v; want complete", d)
	}
}
